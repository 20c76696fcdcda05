# ruff: noqa: S608  (queries built from constant fragments in this file)
"""The two real CRM exports load through the shipped mappings and match the checked facts.

Facts from ../shared/data/README.md. The files are copied to a temporary drop folder first:
the importer archives (moves) what it processed, and the shared folder is read-only.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from salesperf.cli import main as salesperf_main
from salesperf.sources.files import import_dir


def _drop(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file():
            shutil.copy(f, dest / f.name)
    return dest


def _one(conn, query, *params):
    return conn.execute(query, params).fetchone()[0]


def test_maven_crm_loads_with_readme_facts(shared_data, tmp_path, warehouse_db, conn, capsys):
    drop = _drop(shared_data / "maven_crm", tmp_path / "maven")

    # The user's path: the CLI command (it reads WAREHOUSE_URL, set by the fixture).
    assert salesperf_main(["import", "--mapping", "maven_crm", "--dir", str(drop)]) == 0
    out = capsys.readouterr().out
    assert "0 rows quarantined" in out
    assert "unknown columns kept in _extra: year_established" in out

    opp = "from raw.opportunities where _source = 'maven_crm' and _deleted_at is null"
    assert _one(conn, f"select count(*) {opp}") == 8800
    assert _one(conn, f"select count(distinct id) {opp}") == 8800
    stages = dict(conn.execute(f"select stage, count(*) {opp} group by stage").fetchall())
    assert stages == {
        "closed_won": 4238,
        "closed_lost": 2473,
        "qualification": 1589,  # Maven "Engaging"
        "prospecting": 500,
    }
    assert _one(conn, f"select sum(amount) {opp} and is_won") == Decimal("10005534")
    assert _one(conn, f"select count(*) {opp} and is_closed and not is_won") == 2473
    assert _one(conn, f"select count(*) {opp} and stage = 'closed_lost' and amount <> 0") == 0
    assert (
        _one(
            conn,
            f"select count(*) {opp} and stage in ('prospecting', 'qualification') and (closed_at is not null or amount is not null)",
        )
        == 0
    )
    assert _one(conn, f"select count(*) {opp} and currency = 'USD'") == 8800
    # Dirty data normalised by the mapping, nothing dropped.
    assert _one(conn, f"select count(*) {opp} and product = 'GTXPro'") == 0
    assert _one(conn, f"select count(*) {opp} and product = 'GTX Pro'") == 1480
    assert _one(conn, f"select count(*) {opp} and account_id is null") == 1425
    # Every owner and account reference resolves.
    assert _one(conn, f"select count(*) {opp} and owner_id not in (select id from raw.users)") == 0
    assert (
        _one(conn, f"select count(*) {opp} and account_id not in (select id from raw.accounts)")
        == 0
    )

    roles = dict(conn.execute("select role, count(*) from raw.users group by role").fetchall())
    assert roles == {"rep": 35, "manager": 6}
    assert _one(conn, "select count(distinct region) from raw.teams") == 3
    per_region = dict(
        conn.execute(
            "select t.region, count(*) from raw.users u join raw.teams t on t.id = u.team_id "
            "where u.role = 'rep' group by t.region"
        ).fetchall()
    )
    assert per_region == {"Central": 11, "East": 12, "West": 12}
    reps_without_deals = _one(
        conn,
        "select count(*) from raw.users u where role = 'rep' and not exists "
        "(select 1 from raw.opportunities o where o.owner_id = u.id)",
    )
    assert reps_without_deals == 5
    assert _one(conn, "select count(*) from raw.accounts") == 85
    assert _one(conn, "select count(*) from raw.accounts where industry = 'technolgy'") == 0
    assert (
        _one(
            conn,
            "select _extra->>'year_established' from raw.accounts where name = 'Acme Corporation'",
        )
        == "1996"
    )

    assert _one(conn, "select count(*) from ops.quarantine where source = 'maven_crm'") == 0
    assert _one(conn, "select count(*) from ops.imported_files where source = 'maven_crm'") == 3
    assert (
        _one(
            conn,
            "select count(*) from ops.load_batches where source = 'maven_crm' and status = 'succeeded'",
        )
        == 3
    )
    # Everything processed (also the two ignored files) is archived, nothing deleted.
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == []
    assert len(list((drop / "archive").iterdir())) == 5


def test_salesforce_sample_lands_with_mapped_stages(shared_data, tmp_path, warehouse_db, conn):
    drop = _drop(shared_data / "salesforce_sample", tmp_path / "sf")
    report = import_dir("salesforce_sample", drop, warehouse_db)

    assert report.quarantined == 0
    assert report.errors == []
    counts = {
        table: _one(conn, f"select count(*) from raw.{table} where _source = 'salesforce_sample'")
        for table in ("opportunities", "activities", "leads", "accounts", "contacts")
    }
    assert counts == {
        "opportunities": 50,
        "activities": 75,
        "leads": 60,
        "accounts": 22,
        "contacts": 102,
    }

    stages = dict(
        conn.execute("select stage, count(*) from raw.opportunities group by 1").fetchall()
    )
    assert set(stages) <= {
        "prospecting",
        "qualification",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
    }
    assert stages["closed_won"] == 12 and stages["closed_lost"] == 3
    assert _one(conn, "select count(*) from raw.opportunities where is_won") == 12
    assert _one(conn, "select count(*) from raw.opportunities where is_closed") == 15
    # Salesforce timestamps (2024-01-22T16:14:25.000+0000) parsed with their offset.
    created = _one(
        conn,
        "select created_at at time zone 'UTC' from raw.opportunities where id = '006Ec00000AieKFIAZ'",
    )
    assert created.isoformat() == "2024-01-22T16:14:25"
    assert (
        _one(
            conn,
            "select expected_close_date::text from raw.opportunities where id = '006Ec00000AieKFIAZ'",
        )
        == "2024-11-10"
    )
    types = dict(
        conn.execute("select activity_type, count(*) from raw.activities group by 1").fetchall()
    )
    assert types["email"] == 18 and types["call"] == 17 and types["meeting"] == 12
    assert _one(conn, "select count(*) from raw.activities where occurred_at is null") == 0
    # Objects without a landing entity are reported as ignored, not silently skipped.
    ignored = sorted(f.file_name for f in report.files if f.status == "ignored")
    assert ignored == [
        "AccountContactRelation.csv",
        "Branch__c.csv",
        "Campaign.csv",
        "CampaignMember.csv",
        "Case.csv",
    ]


@pytest.mark.parametrize("mapping", ["maven_crm", "salesforce_sample", "_example"])
def test_shipped_mappings_parse(mapping):
    from salesperf.sources.file_mapping import load_mapping

    m = load_mapping(mapping)
    assert m.files
