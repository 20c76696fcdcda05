"""An extract that changes no landing row publishes nothing, so no rebuild follows."""

from __future__ import annotations

import pytest

from salesperf import extract
from salesperf.commands import demo
from salesperf.sources import demo_crm


def test_landing_changes_sums_every_entity():
    results = [
        {"entity": "users", "inserted": 2, "updated": 0, "deleted": 0},
        {"entity": "orders", "inserted": 0, "updated": 3, "deleted": 1},
    ]
    assert extract.landing_changes(results) == {"inserted": 2, "updated": 3, "deleted": 1}
    assert not any(extract.landing_changes([{"inserted": 0, "updated": 0, "deleted": 0}]).values())


@pytest.fixture
def crm(warehouse_db, monkeypatch):
    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("tiny", seed=9, warehouse=warehouse_db)
    return warehouse_db


def _now(conn):
    return conn.execute("select now()").fetchone()[0]


def test_unchanged_extract_reports_no_change_and_the_demo_skips_the_rebuild(crm, conn):
    first = _now(conn)
    extract.run_extract("demo_crm", warehouse=crm)
    assert extract.changed_since(conn, first) > 0
    assert not demo._marts_current(crm, first)  # new rows landed

    second = _now(conn)
    results = extract.run_extract("demo_crm", warehouse=crm)
    assert not any(extract.landing_changes(list(results.values())).values())
    assert extract.changed_since(conn, second) == 0
    # nothing changed, but the marts were never validated: still rebuild
    assert not demo._marts_current(crm, second)

    conn.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful, "
        "failed) values ('r1', 'marts.dim_reps', 'marts', true, 3, 3, 0)"
    )
    assert demo._marts_current(crm, second)
    conn.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful, "
        "failed) values ('r2', 'marts.dim_reps', 'marts', false, 3, 2, 1)"
    )
    assert not demo._marts_current(crm, second)  # the latest validation failed: rebuild


def test_the_demo_rebuilds_marts_older_than_the_dbt_project(crm, conn, monkeypatch):
    """Nothing landed and the marts passed validation, but a model (or seed, macro, test)
    changed since: the marts are not what the project builds now, so `make demo` rebuilds
    them. Before, it said they were current and showed the old figures until --rebuild."""
    from salesperf import dbt

    extract.run_extract("demo_crm", warehouse=crm)
    conn.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful, "
        "failed, started_at) values ('r1', 'marts.dim_reps', 'marts', true, 3, 3, 0, "
        "now() - interval '1 hour')"
    )
    since = _now(conn)
    extract.run_extract("demo_crm", warehouse=crm)  # nothing new
    validated = conn.execute("select extract(epoch from now() - interval '1 hour')").fetchone()[0]
    monkeypatch.setattr(dbt, "project_mtime", lambda: float(validated) - 60)
    assert demo._marts_current(crm, since)
    monkeypatch.setattr(dbt, "project_mtime", lambda: float(validated) + 60)
    assert not demo._marts_current(crm, since)
