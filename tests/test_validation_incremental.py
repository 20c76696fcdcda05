"""Incremental landing validation against a real PostgreSQL: a run after a successful one reads
only the rows changed since, and still finds every bad row a whole-table run finds, including
old rows orphaned when their parent key leaves the parent table. Data Docs render only the
run's own pages."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from validation_support import landing_database

from salesperf import warehouse as wh
from salesperf.validation import run_layer


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx_inc")


@pytest.fixture
def db(server):
    with landing_database(server, "sp_valinc") as db:
        yield db


def _run(db, gx_root, docs_dir, **kwargs):
    return run_layer(
        "landing", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, data_docs=False, **kwargs
    )


def _modes(result) -> dict[str, str]:
    return {s.suite: s.details["incremental"]["mode"] for s in result.suites}


def _findings(result) -> dict:
    """(suite, rule) -> (how many bad rows, the keys of the sample rows)."""
    found = {}
    for s in result.suites:
        for f in s.failures:
            count = f.get("unexpected_count", f.get("observed_value"))
            ids = sorted(str(r.get("id")) for r in f.get("sample_rows", []))
            found[(s.suite, f["rule"])] = (count, ids)
    return found


def test_incremental_run_finds_what_a_full_run_finds(db, gx_root, tmp_path):
    docs = tmp_path / "docs"
    first = _run(db, gx_root, docs)
    assert first.success, first.summary()
    assert set(_modes(first).values()) == {"full"}  # no history: whole tables

    quiet = _run(db, gx_root, docs)
    assert quiet.success, quiet.summary()
    modes = _modes(quiet)
    assert modes["landing.activities"] == "incremental"
    assert modes["landing.sales_targets"] == "full"  # one row per grain compares rows
    assert {
        s.details["incremental"]["batch_rows"]
        for s in quiet.suites
        if s.suite != "landing.sales_targets"
    } == {0}

    with wh.connect(db, autocommit=True) as conn:
        # new and changed bad rows
        conn.execute(
            "insert into raw.activities (id, activity_type, owner_id, occurred_at,"
            " duration_minutes, _source, _batch_id)"
            " values ('x9', 'call', 'u2', now() - interval '1 day', -5, 'demo', 'b2'),"
            " ('x8', 'call', 'ghost', now() - interval '1 day', 5, 'demo', 'b2')"
        )
        conn.execute("update raw.opportunities set amount = -1, _batch_id = 'b2' where id = 'o1'")
        conn.execute(
            "insert into raw.sales_targets (id, level, level_key, period_type, period_start,"
            " metric, value, _source, _batch_id) values ('g9', 'rep', 'u2', 'year',"
            " date_trunc('year', now())::date, 'revenue', 1, 'demo', 'b2')"
        )
        # old rows orphaned: their parent key leaves raw.users (deleted, or its key changed), the rows stay
        conn.execute("delete from raw.users where id = 'u3'")
        conn.execute("update raw.users set id = 'u0' where id = 'u1'")
        # a parent deleted in the source keeps its key: its children stay valid
        conn.execute(
            "update raw.opportunities set _deleted_at = now(), _batch_id = 'b3' where id = 'o3'"
        )
        conn.execute("update raw.users set _deleted_at = now(), _batch_id = 'b3' where id = 'u2'")

    incremental = _run(db, gx_root, docs)
    modes = _modes(incremental)
    assert modes["landing.activities"] == "incremental"
    assert modes["landing.opportunities"] == "incremental"
    batch = {s.suite: s.details["incremental"]["batch_rows"] for s in incremental.suites}
    assert batch["landing.activities"] == 3  # x9, x8 and x2, whose owner u3 is gone
    full = _run(db, gx_root, docs, full=True)
    assert set(_modes(full).values()) == {"full"}

    assert not full.success
    expected = _findings(full)
    assert _findings(incremental) == expected
    grain = "one row per _source × level × level_key × period_type × period_start × metric"
    assert expected == {
        ("landing.activities", "duration_minutes: column values to be between (min_value=0.0)"): (
            1,
            ["x9"],
        ),
        ("landing.activities", "every owner_id exists in raw.users.id"): (2, ["x2", "x8"]),
        ("landing.opportunities", "amount: column values to be between (min_value=0.0)"): (
            1,
            ["o1"],
        ),
        ("landing.opportunities", "every owner_id exists in raw.users.id"): (1, ["o2"]),
        ("landing.satisfaction_surveys", "every rep_id exists in raw.users.id"): (1, ["s2"]),
        ("landing.coaching_sessions", "every rep_id exists in raw.users.id"): (1, ["k1"]),
        ("landing.teams", "every manager_id exists in raw.users.id"): (1, ["t1"]),
        ("landing.sales_targets", grain): (1, ["None"]),  # grouped rows have no id
    }


def test_a_failed_suite_is_validated_whole_next_time(db, gx_root, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    assert _run(db, gx_root, docs).success
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("update raw.orders set amount = -1 where id = 'r1'")
    failed = _run(db, gx_root, docs)
    assert [s.suite for s in failed.failed_suites] == ["landing.orders"]
    assert _modes(failed)["landing.orders"] == "incremental"

    # the bad row is old now; a run starting from the failed one would never look at it
    again = _run(db, gx_root, docs)
    [orders] = [s for s in again.suites if s.suite == "landing.orders"]
    assert orders.details["incremental"]["reason"] == "the previous run failed"
    assert not orders.success

    with wh.connect(db, autocommit=True) as conn:
        conn.execute("update raw.orders set amount = 1 where id = 'r1'")
    assert _run(db, gx_root, docs).success
    monkeypatch.setenv("SALESPERF_DQ_FULL", "1")  # what an operator sets to force whole tables
    forced = _run(db, gx_root, docs)
    assert {s.details["incremental"]["reason"] for s in forced.suites} == {"asked for"}


_NEW_ACTIVITY = (
    "insert into raw.activities (id, activity_type, owner_id, occurred_at, duration_minutes,"
    " _source, _batch_id) values ('{id}', 'call', 'u2', now() - interval '1 day', {minutes},"
    " 'demo', 'b2')"
)


def _activities_batch(result) -> int:
    [suite] = [s for s in result.suites if s.suite == "landing.activities"]
    assert suite.details["incremental"]["mode"] == "incremental"
    return suite.details["incremental"]["batch_rows"]


def test_a_transaction_running_here_has_its_rows_checked_by_the_next_run(db, gx_root, tmp_path):
    """A row written by a transaction still open when a run starts is invisible to that run:
    the next run must read it, however long ago the row was written."""
    docs = tmp_path / "docs"
    with psycopg.connect(db.url) as writer:  # a transaction of its own, left open
        writer.execute(_NEW_ACTIVITY.format(id="late", minutes=-5))
        assert _run(db, gx_root, docs).success  # the bad row is not committed yet
    # committed when the block ends
    after = _run(db, gx_root, docs)
    assert _activities_batch(after) == 1
    assert not after.success
    [failure] = [f for s in after.failed_suites for f in s.failures]
    assert [r["id"] for r in failure["sample_rows"]] == ["late"]


def test_a_transaction_in_another_database_does_not_widen_the_next_batch(
    db, server, gx_root, tmp_path
):
    """A transaction running in another database of the same server (Airflow's metadata,
    another warehouse) cannot write here, so the next run does not re-check the rows this
    database wrote while it ran. It did, as long as the server's oldest transaction was the
    bound: a suite re-checked every row written since any session anywhere began one."""
    docs = tmp_path / "docs"
    with psycopg.connect(server.url) as elsewhere:  # not this database
        elsewhere.execute("select pg_current_xact_id()")  # holds a transaction id, stays open
        with wh.connect(db, autocommit=True) as conn:
            conn.execute(_NEW_ACTIVITY.format(id="n1", minutes=5))
        assert _run(db, gx_root, docs).success
        with wh.connect(db, autocommit=True) as conn:
            conn.execute(_NEW_ACTIVITY.format(id="n2", minutes=5))
        assert _activities_batch(_run(db, gx_root, docs)) == 1  # n2 only, not n1 again
        elsewhere.rollback()


def test_data_docs_render_the_runs_own_pages_once(db, gx_root, tmp_path):
    docs = tmp_path / "docs"
    runs = [run_layer("landing", warehouse=db, gx_root=gx_root, docs_dir=docs) for _ in range(2)]
    assert all(r.success for r in runs)
    first_pages = [Path(s.data_docs[len("file://") :]) for s in runs[0].suites]
    second_pages = [Path(s.data_docs[len("file://") :]) for s in runs[1].suites]
    assert all(p.is_file() for p in first_pages + second_pages)
    assert not set(first_pages) & set(second_pages)
    # the second run did not render the first run's pages again, nor unchanged suite pages
    newest_first = max(p.stat().st_mtime for p in first_pages)
    oldest_second = min(p.stat().st_mtime for p in second_pages)
    assert newest_first <= oldest_second
    suite_page = docs / "expectations" / "landing" / "users.html"
    assert suite_page.stat().st_mtime <= oldest_second
    index = (docs / "index.html").read_text()
    assert runs[0].run_id in index and runs[1].run_id in index
    with wh.connect(db) as conn:
        links = conn.execute(
            "select data_docs from ops.validation_runs where run_id = %s order by suite",
            (runs[1].run_id,),
        ).fetchall()
    assert sorted(p.as_uri() for p in second_pages) == [r[0] for r in links]


def test_cli_full_flag_reads_every_row(db, tmp_path, monkeypatch, capsys):
    """`salesperf validate --full` validates whole landing tables; without it a suite with a
    good run reads only the rows written since, and the output says which."""
    from salesperf.cli import main as salesperf_main

    for key, value in db.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WAREHOUSE_URL", db.url)
    monkeypatch.setenv("SALESPERF_GX_ROOT", str(tmp_path / "gx"))
    monkeypatch.setenv("SALESPERF_DATA_DOCS_DIR", str(tmp_path / "docs"))
    monkeypatch.delenv("SALESPERF_DQ_FULL", raising=False)
    args = ["validate", "--layer", "landing"]
    assert salesperf_main(args) == 0  # first run: whole tables
    capsys.readouterr()
    assert salesperf_main(args) == 0
    assert "landing.users" in (out := capsys.readouterr().out) and "(incremental)" in out
    assert salesperf_main([*args, "--full"]) == 0
    out = capsys.readouterr().out
    assert "(incremental)" not in out and "(full)" in out
    with wh.connect(db) as conn:
        reasons = conn.execute(
            "select distinct details->'incremental'->>'reason' from ops.validation_runs "
            "where run_id = (select run_id from ops.validation_runs order by id desc limit 1)"
        ).fetchall()
    assert reasons == [("asked for",)]


def test_orphaned_references_stay_in_the_server(db):
    """An export whose references are all orphans: their values are kept in REF_MISSING
    without passing through this process (it held every one in memory before: ~40 MB of
    Python objects for these 200 k values, ~1 GB for the 5 M activities of a large CRM)."""
    import tracemalloc

    from salesperf.validation import batches, gx_context

    orphans = 200_000
    [spec] = [s for s in gx_context.registry().suites("landing") if s.name == "landing.activities"]
    ref = {"column": "owner_id", "table": "raw.users", "table_column": "id", "same_source": False}
    plan = batches.Plan(spec.name, "full", "asked for", references=[ref])
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(
            "insert into raw.activities (id, activity_type, owner_id, occurred_at, _source,"
            " _batch_id) select 'ghost' || i, 'call', 'gone-' || i, now(), 'demo', 'b2'"
            " from generate_series(1, %s) i",
            (orphans,),
        )
        batches.ensure_tables(conn)
        tracemalloc.start()
        try:
            live = batches._keep_reference_values(conn, spec, plan)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        values_table = batches._values_table(spec, ref)
        kept = conn.execute(
            f"select count(*), count(distinct value), min(_source), max(_source)"  # noqa: S608
            f" from {batches.REF_MISSING} where values_table = %s",
            (values_table,),
        ).fetchone()
        # a second full run replaces the table's missing values, it does not add to them
        batches._keep_reference_values(conn, spec, plan)
        again = conn.execute(
            f"select count(*) from {batches.REF_MISSING} where values_table = %s",  # noqa: S608
            (values_table,),
        ).fetchone()[0]
    assert live == orphans + 2  # x1, x2 of the good rows
    assert kept == (orphans, orphans, "demo", "demo")
    assert again == orphans
    assert peak < 2_000_000, f"{peak:,} bytes allocated in Python"


def _values_tables(conn) -> dict[str, int]:
    return dict(
        conn.execute(
            "select n.nspname || '.' || c.relname, c.oid::bigint from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'dq' and c.relname like 'landing\\_ref\\_values\\_\\_%'"
        ).fetchall()
    )


def test_a_full_run_prepares_whole_tables_while_the_suites_are_built(db, tmp_path, monkeypatch):
    """The whole-table preparation of a full run (each reference column's values, the live
    row counts) does not wait for the suites, whose building imports GX: it is done on a
    connection of its own meanwhile, and the run uses what it prepared."""
    import time

    from salesperf.landing.entities import ENTITIES
    from salesperf.validation import batches, gx_context

    expected = {
        ref["values_table"] for entity in ENTITIES for ref in batches.declared_references(entity)
    }
    real_registry = gx_context.registry
    seen: dict[str, dict[str, int]] = {}

    class WatchedRegistry:
        """The registry, looking at the warehouse before it builds the suites."""

        def suites(self, layer):
            deadline = time.monotonic() + 60  # liveness only: a few ms when it works
            with wh.connect(db, autocommit=True) as conn:
                while set(_values_tables(conn)) < expected and time.monotonic() < deadline:
                    time.sleep(0.05)
                seen.update(_values_tables(conn))
            return real_registry().suites(layer)

    monkeypatch.setattr(gx_context, "registry", WatchedRegistry)
    result = _run(db, tmp_path / "gx", tmp_path / "docs", full=True)

    assert result.success, result.summary()
    assert set(seen) >= expected, f"not prepared before the suites: {expected - set(seen)}"
    with wh.connect(db) as conn:
        after = _values_tables(conn)
        live = {
            f"landing.{entity}": conn.execute(
                f"select count(*) from raw.{entity} where _deleted_at is null"  # noqa: S608
            ).fetchone()[0]
            for entity in ENTITIES
        }
    # the run kept what was prepared ahead (a table made again has a new oid)
    assert {t: after[t] for t in expected} == {t: seen[t] for t in expected}
    assert {s.suite: s.details["row_count"] for s in result.suites} == live


def test_the_contract_declares_the_references_the_landing_suites_check(tmp_path):
    """What is prepared ahead is used only when a suite's reference rules are the ones its
    entity declares: they are, for every landing suite."""
    import great_expectations as gx

    from salesperf.validation import batches, gx_context

    context = gx.get_context(mode="ephemeral")
    for spec in gx_context.registry().suites("landing"):
        entity = spec.relation.split(".", 1)[1]
        assert batches._references(spec.build(context)) == batches.declared_references(entity)


def test_a_failed_preparation_ahead_leaves_the_work_to_the_run(db, caplog):
    from salesperf.validation import batches

    nowhere = wh.Warehouse(db.url.rsplit("/", 1)[0] + "/sp_no_such_database", "test")
    ahead = batches.Ahead(nowhere, ["activities"], full=True)
    assert ahead.take() == {}
    ahead.stop()
    assert "preparing the landing suites ahead failed" in caplog.text


def test_a_run_that_fails_before_its_suites_exist_stops_its_preparation(db, tmp_path, monkeypatch):
    """The preparation started ahead is cancelled when the run fails, not waited for: here
    its first statement waits for a lock that is only released after the run returns."""
    import threading
    import time

    from salesperf.validation import gx_context

    holder = psycopg.connect(db.url)
    holder.execute("lock table raw.users in access exclusive mode")
    released = threading.Event()
    watchdog = threading.Timer(120, lambda: (released.set(), holder.rollback()))
    watchdog.start()

    class BrokenRegistry:
        def suites(self, layer):
            deadline = time.monotonic() + 60
            with wh.connect(db, autocommit=True) as conn:
                while (
                    time.monotonic() < deadline
                    and not conn.execute(
                        "select exists (select 1 from pg_stat_activity where wait_event_type = 'Lock'"
                        " and query like '%%raw.users%%')"
                    ).fetchone()[0]
                ):
                    time.sleep(0.05)
            raise RuntimeError("a suite module does not import")

    monkeypatch.setattr(gx_context, "registry", BrokenRegistry)
    try:
        with pytest.raises(RuntimeError, match="a suite module does not import"):
            _run(db, tmp_path / "gx", tmp_path / "docs", full=True)
        assert not released.is_set(), "the run waited for its preparation to finish"
        assert [t for t in threading.enumerate() if t.name == "dq-prepare"] == []
    finally:
        watchdog.cancel()
        holder.close()


def test_a_suite_whose_kept_values_are_gone_is_validated_whole(db, tmp_path):
    """What a preparation cancelled between dropping and making a values table leaves: the
    next run cannot trust an incremental batch for that suite, reads it whole and still
    finds the old row orphaned since."""
    gx, docs = tmp_path / "gx", tmp_path / "docs"
    assert _run(db, gx, docs).success
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("drop table dq.landing_ref_values__activities__owner_id")
        conn.execute("delete from raw.users where id = 'u3'")  # x2's owner

    result = _run(db, gx, docs)
    [activities] = [s for s in result.suites if s.suite == "landing.activities"]
    assert activities.details["incremental"]["mode"] == "full"
    assert activities.details["incremental"]["reason"] == "reference values not kept"
    [failure] = activities.failures
    assert failure["rule"] == "every owner_id exists in raw.users.id"
    assert [r["id"] for r in failure["sample_rows"]] == ["x2"]
