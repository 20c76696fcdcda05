"""The demo CRM generator: deterministic for a seed, and shaped like a real sales history."""

from __future__ import annotations

import psycopg
import pytest

from salesperf import cli
from salesperf import warehouse as wh
from salesperf.sources import demo_crm
from salesperf.sources.demo_crm.daily import advance_days
from salesperf.sources.demo_crm.generator import TABLES


@pytest.fixture
def new_crm(make_db, monkeypatch):
    """Factory: create a demo CRM in a fresh database (via DEMO_CRM_URL); returns it."""

    def _make(size: str = "tiny", seed: int = 5) -> wh.Warehouse:
        db = make_db("crm", migrated=False)
        monkeypatch.setenv("DEMO_CRM_URL", db.url)
        demo_crm.create(size, seed)
        return db

    return _make


def test_default_location_is_next_to_the_warehouse(monkeypatch):
    monkeypatch.delenv("DEMO_CRM_URL", raising=False)
    base = wh.Warehouse("postgresql://u@db.example:5433/sales", "test")

    assert demo_crm.crm_warehouse(base).url == "postgresql://u@db.example:5433/sales_democrm"


def checksums(crm: wh.Warehouse) -> dict[str, str]:
    with wh.connect(crm) as conn:
        return {
            t: conn.execute(
                f"select count(*) || ':' || md5(string_agg(t::text, '|' order by id)) from crm.{t} t"  # noqa: S608
            ).fetchone()[0]
            for t in TABLES
        }


def test_same_seed_same_crm_other_seed_other_crm(new_crm):
    a, b, c = new_crm(seed=5), new_crm(seed=5), new_crm(seed=6)

    assert checksums(a) == checksums(b)
    assert checksums(a)["opportunities"] != checksums(c)["opportunities"]


def test_advance_is_deterministic_for_seed_and_state(new_crm, monkeypatch):
    a, b = new_crm(seed=5), new_crm(seed=5)
    changes = []
    for crm in (a, b):
        monkeypatch.setenv("DEMO_CRM_URL", crm.url)
        changes.append(demo_crm.advance(2))

    assert changes[0] == changes[1]
    assert changes[0]["opportunities_new"] > 0 and changes[0]["hard_deletes"] > 0
    assert checksums(a) == checksums(b)
    with wh.connect(a) as conn:
        clock = conn.execute("select value from crm.meta where key = 'clock'").fetchone()[0]
    assert clock == "2026-11-02T20:00:00+08:00"  # two days after the default as-of date


class _CountingCursor(psycopg.Cursor):
    """Counts the statements sent (an executemany counts one per parameter set)."""

    sent = 0

    def execute(self, query, params=None, **kwargs):
        type(self).sent += 1
        return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        params_seq = list(params_seq)
        type(self).sent += len(params_seq)
        return super().executemany(query, params_seq, **kwargs)


def test_a_day_is_written_in_statements_per_table_not_per_row(new_crm):
    """A day's statements must not grow with its rows: one round trip per new id and per
    updated row was half of a medium day's 2.3-2.7 s."""
    crm = new_crm("small", seed=42)
    with psycopg.connect(crm.url, cursor_factory=_CountingCursor) as conn:
        _CountingCursor.sent = 0
        changes = advance_days(conn, 1)

    rows = sum(changes.values())
    assert rows > 100 and changes["stage_changes"] > 5 and changes["late_edits"] > 10, changes
    # a few statements per table (reads, id blocks, one COPY or UPDATE each), whatever the
    # rows (186 here before, one per new id and per updated row)
    assert _CountingCursor.sent < 80, (_CountingCursor.sent, changes)


def test_small_crm_looks_like_a_sales_history(new_crm):
    crm = new_crm("small", seed=42)
    with wh.connect(crm) as conn:

        def one(sql: str):
            return conn.execute(sql).fetchone()[0]

        assert 25 <= one("select count(*) from crm.users where role = 'rep'") <= 40
        assert 1500 <= one("select count(*) from crm.opportunities") <= 6000
        assert one("select count(distinct currency) from crm.opportunities") >= 2
        assert {r[0] for r in conn.execute("select distinct locale from crm.users")} == {
            "zh_CN",
            "en",
        }
        assert one("select count(*) from crm.users where full_name ~ '[^ -~]'") > 0  # Chinese names
        stages = {r[0] for r in conn.execute("select distinct stage from crm.opportunities")}
        assert {"closed_won", "closed_lost"} <= stages <= {
            "prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"
        }  # fmt: skip
        # every deal's history starts in prospecting and ends in its current stage
        assert (
            one(
                "select count(*) from crm.opportunities o where "
                "(select stage from crm.opportunity_stage_history h where h.opportunity_id = o.id "
                " order by changed_at, id limit 1) <> 'prospecting' or "
                "(select stage from crm.opportunity_stage_history h where h.opportunity_id = o.id "
                " order by changed_at desc, id desc limit 1) <> o.stage"
            )
            == 0
        )
        win_rate = one("select avg(is_won::int) from crm.opportunities where is_closed")
        assert 0.1 < win_rate < 0.4
        assert (
            one(
                "select count(*) from crm.opportunities o where is_won and not exists "
                "(select 1 from crm.orders r where r.opportunity_id = o.id)"
            )
            == 0
        )
        statuses = {r[0] for r in conn.execute("select distinct status from crm.orders")}
        assert statuses == {"paid", "refunded", "cancelled"}
        kinds = {r[0] for r in conn.execute("select distinct activity_type from crm.activities")}
        assert kinds == {"call", "meeting", "visit", "email", "demo"}
        assert (
            one("select count(*) from crm.users where role = 'rep' and leave_date is not null") > 0
        )
        assert (
            one("select count(*) from crm.users where role = 'rep' and hire_date > '2024-11-01'")
            > 0
        )
        assert one("select count(*) from crm.users where previous_team_id is not null") > 0
        assert (
            one(
                "select count(*) from crm.sales_targets where level = 'company' and period_type = 'year'"
            )
            >= 2
        )
        assert one("select count(distinct level) from crm.sales_targets") == 4
        assert one(
            "select min(csat) >= 1 and max(csat) <= 5 and max(nps) <= 10 from crm.satisfaction_surveys"
        )
        assert one("select count(distinct quarter_start) from crm.appraisal_feedback") >= 6
        assert one("select count(*) from crm.coaching_sessions") > 0
        # about two years of history, nothing after the as-of date
        first, last = conn.execute(
            "select min(created_at), max(updated_at) from crm.opportunities"
        ).fetchone()
        assert (last - first).days > 650
        assert last.date() <= demo_crm.DEFAULT_AS_OF
        assert one("select count(*) from crm.opportunities where is_deleted") > 0
        # nothing was changed after the CRM's clock (else incremental extracts would skip rows)
        clock = one("select value::timestamptz from crm.meta where key = 'clock'")
        for table in TABLES:
            latest = one(f"select max(updated_at) from crm.{table}")  # noqa: S608
            assert latest <= clock, table


def test_cli_rejects_an_unknown_size(capsys):
    assert cli.main(["demo-crm", "create", "--size", "huge"]) == 2
    assert "unknown size 'huge'" in capsys.readouterr().err
