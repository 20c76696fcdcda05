"""The CRM-database source against a real demo CRM: landing equals source, incrementally."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from salesperf import extract
from salesperf import warehouse as wh
from salesperf.landing import entities as E
from salesperf.sources import demo_crm


@pytest.fixture
def crm(warehouse_db, monkeypatch):
    """A warehouse with a tiny demo CRM; returns the warehouse.

    The CRM goes to schema ``crm`` of the warehouse database itself (through DEMO_CRM_URL):
    one database per test keeps the suite fast; the extract still reads it over its own
    connection and snapshot, exactly as it reads a separate database."""
    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("tiny", seed=11, warehouse=warehouse_db)
    return warehouse_db


def source_rows(warehouse: wh.Warehouse, entity: str) -> dict[str, tuple]:
    """What the source holds for the entity: id -> (landing columns..., _extra, deleted_at)."""
    src = extract.get_source("demo_crm", warehouse)
    with wh.connect(src.location) as conn:
        return {r[0]: tuple(r) for r in conn.execute(src.select_sql(conn, entity))}


def landing_rows(conn, entity: str) -> dict[str, tuple]:
    cols = ", ".join(E.get(entity).column_names)
    rows = conn.execute(
        f"select {cols}, _extra, _deleted_at from raw.{entity} where _source = 'demo_crm'"  # noqa: S608
    )
    return {r[0]: tuple(r) for r in rows}


def assert_landing_equals_source(warehouse: wh.Warehouse, conn) -> dict[str, int]:
    """Live source rows equal live landing rows; everything else in landing is deleted.

    Returns the number of deleted landing rows per entity."""
    deleted = {}
    for entity in E.ENTITIES:
        src = source_rows(warehouse, entity)
        land = landing_rows(conn, entity)
        live_src = {k: v[:-1] for k, v in src.items() if v[-1] is None}
        live_land = {k: v[:-1] for k, v in land.items() if v[-1] is None}
        assert live_land == live_src, f"{entity}: live rows differ"
        soft = {k for k, v in src.items() if v[-1] is not None}
        gone = set(land) - set(src)
        assert {k for k, v in land.items() if v[-1] is not None} == soft | gone, entity
        for k in soft:  # a soft delete keeps the source's time of deletion
            assert land[k][-1] == src[k][-1], f"{entity} {k}: deleted_at"
        deleted[entity] = len(soft | gone)
    return deleted


def test_first_extract_lands_every_entity(crm, conn):
    results = extract.run_extract("demo_crm", warehouse=crm)

    assert set(results) == set(E.ENTITIES)
    assert_landing_equals_source(crm, conn)
    for entity, counts in results.items():
        n = conn.execute(f"select count(*) from raw.{entity}").fetchone()[0]  # noqa: S608
        assert counts["inserted"] == counts["rows_in"] == n > 0, entity
    batches = conn.execute(
        "select status, count(*), sum(rows_loaded) from ops.load_batches group by status"
    ).fetchall()
    assert batches == [("success", len(E.ENTITIES), sum(c["inserted"] for c in results.values()))]
    src = extract.get_source("demo_crm", crm)
    with wh.connect(src.location) as s:
        high = s.execute("select max(updated_at) from crm.opportunities").fetchone()[0]
    wm = conn.execute(
        "select watermark from ops.extract_state where source = 'demo_crm' and entity = 'opportunities'"
    ).fetchone()[0]
    assert wm == high


def test_rerun_changes_nothing(crm, conn):
    extract.run_extract("demo_crm", warehouse=crm)
    before = conn.execute("select _batch_id, count(*) from raw.activities group by 1").fetchall()

    again = extract.run_extract("demo_crm", warehouse=crm, lookback_window=timedelta(days=30))

    assert all(c["rows_in"] > 0 for c in again.values() if c is not again["teams"])
    assert {(c["inserted"], c["updated"], c["deleted"]) for c in again.values()} == {(0, 0, 0)}
    assert (
        conn.execute("select _batch_id, count(*) from raw.activities group by 1").fetchall()
        == before
    )


def test_landing_follows_the_crm_through_advances(crm, conn):
    extract.run_extract("demo_crm", warehouse=crm)
    first = assert_landing_equals_source(crm, conn)

    demo_crm.advance(3, warehouse=crm)
    step1 = extract.run_extract("demo_crm", warehouse=crm)
    after1 = assert_landing_equals_source(crm, conn)
    demo_crm.advance(4, warehouse=crm)
    step2 = extract.run_extract("demo_crm", warehouse=crm)
    after2 = assert_landing_equals_source(crm, conn)

    # the steps really were incremental, with new rows, updates, and both kinds of delete
    for step in (step1, step2):
        assert step["activities"]["inserted"] > 0
        assert step["opportunities"]["updated"] > 0
        assert (
            step["opportunities"]["rows_in"]
            < conn.execute("select count(*) from raw.opportunities").fetchone()[0]
        )
        assert sum(c["deleted"] for c in step.values()) > 0  # hard deletes
    assert after2["activities"] > after1["activities"] >= first["activities"]
    assert after2["opportunities"] > first["opportunities"]  # soft deletes


def test_failure_between_copy_and_merge_leaves_landing_unchanged(crm, conn, monkeypatch):
    from salesperf.landing import load

    extract.run_extract("demo_crm", warehouse=crm)
    demo_crm.advance(2, warehouse=crm)
    snapshot = {e: landing_rows(conn, e) for e in E.ENTITIES}
    state = conn.execute("select * from ops.extract_state order by entity").fetchall()
    real_merge = load._merge_staged

    def merge_then_fail(*args, **kwargs):
        if args[1].name == "opportunities":
            raise RuntimeError("injected failure after COPY, before merge")
        return real_merge(*args, **kwargs)

    monkeypatch.setattr(load, "_merge_staged", merge_then_fail)
    with pytest.raises(RuntimeError, match="injected failure"):
        extract.run_extract("demo_crm", ["opportunities"], warehouse=crm)

    assert {e: landing_rows(conn, e) for e in E.ENTITIES} == snapshot
    assert conn.execute("select * from ops.extract_state order by entity").fetchall() == state
    failed = conn.execute(
        "select entity, message from ops.load_batches where status = 'failed'"
    ).fetchall()
    assert failed == [("opportunities", "RuntimeError: injected failure after COPY, before merge")]
    monkeypatch.setattr(load, "_merge_staged", real_merge)
    rerun = extract.run_extract("demo_crm", warehouse=crm)
    assert rerun["opportunities"]["updated"] > 0
    assert_landing_equals_source(crm, conn)


def test_lookback_window_catches_late_commits(crm, conn):
    extract.run_extract("demo_crm", warehouse=crm)
    wm = conn.execute(
        "select watermark from ops.extract_state where entity = 'activities'"
    ).fetchone()[0]
    src = extract.get_source("demo_crm", crm)
    with wh.connect(src.location, autocommit=True) as s:
        # a transaction that stamped its rows before the last extract but committed after it
        s.execute(
            "update crm.activities set outcome = 'late', updated_at = %s where id in (1, 2)",
            (wm - timedelta(minutes=5),),
        )

    without = extract.run_entity("demo_crm", "activities", crm, lookback_window=timedelta(0))
    with_window = extract.run_entity(
        "demo_crm", "activities", crm, lookback_window=timedelta(minutes=10)
    )

    assert (without["updated"], with_window["updated"]) == (0, 2)
    assert_landing_equals_source(crm, conn)


def test_rebuilt_source_gets_a_full_extract(crm, conn):
    extract.run_extract("demo_crm", warehouse=crm)
    demo_crm.create("tiny", seed=12, warehouse=crm)  # different content, same ids and times

    extract.run_extract("demo_crm", warehouse=crm)

    assert_landing_equals_source(crm, conn)


def test_unknown_entity_is_a_clear_error():
    with pytest.raises(KeyError, match="source demo_crm has no entity nope"):
        extract.plan("demo_crm", ["nope"])


def test_first_load_rebuilds_the_primary_key_and_duplicate_keys_load_nothing(crm, conn):
    """A first load into an empty landing table copies without the primary key and builds
    it afterwards; a source that repeats a key then fails that entity as a whole (nothing
    lands, the key constraint is back) instead of landing duplicates."""
    with wh.connect(crm, autocommit=True) as src:
        src.execute("alter table crm.teams drop constraint teams_pkey")
        src.execute("insert into crm.teams select * from crm.teams order by id limit 1")
    with pytest.raises(Exception, match="(?i)duplicate key|could not create unique index"):
        extract.run_extract("demo_crm", ["teams"], warehouse=crm)
    assert conn.execute("select count(*) from raw.teams").fetchone()[0] == 0
    pkey = (
        "select conname from pg_constraint where conrelid = 'raw.teams'::regclass and contype = 'p'"
    )
    assert conn.execute(pkey).fetchall() == [("teams_pkey",)]

    extract.run_extract("demo_crm", ["users", "opportunities"], warehouse=crm)
    for entity in ("users", "opportunities"):
        assert conn.execute(
            f"select conname from pg_constraint where conrelid = 'raw.{entity}'::regclass "  # noqa: S608
            "and contype = 'p'"
        ).fetchall() == [(f"{entity}_pkey",)]
    assert landing_rows(conn, "opportunities") == source_rows(crm, "opportunities")


def test_a_load_leaves_planner_statistics_for_every_column(crm, conn):
    """dbt's incremental models filter landing on _extracted_at and join on the foreign
    keys; without statistics on those columns (autovacuum may be off, or late) their plans
    assume an arbitrary share of rows. Loads analyze the whole table, not only its keys."""
    extract.run_extract("demo_crm", ["activities", "opportunities"], warehouse=crm)
    for entity in ("activities", "opportunities"):
        analyzed = {
            r[0]
            for r in conn.execute(
                "select attname from pg_stats where schemaname = 'raw' and tablename = %s",
                (entity,),
            )
        }
        assert {"_extracted_at", "owner_id", "updated_at", "_source", "id"} <= analyzed, entity


def test_a_small_merge_leaves_statistics_that_know_the_new_rows(crm, conn):
    """dbt's incremental models select landing rows `_extracted_at > <last build>` (or
    deleted since). A merge of a few rows writes values newer than the histogram knows;
    without fresh statistics PostgreSQL estimates that at one row and plans nested loops
    over what is in fact a day's changes. The planner's estimate must follow the merge."""
    extract.run_extract("demo_crm", ["activities"], warehouse=crm)
    (before,) = conn.execute("select max(_extracted_at) from raw.activities").fetchone()
    (total,) = conn.execute("select count(*) from raw.activities").fetchone()
    changed = max(10, total // 50)  # 2 %: below the share that analyzes the whole table
    with wh.connect(extract.get_source("demo_crm", crm).location, autocommit=True) as c:
        c.execute(
            "update crm.activities set subject = coalesce(subject, '') || ' (edited)', "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.activities) "
            "where id in (select id from crm.activities order by id limit %s)",
            (changed,),
        )
        c.execute("delete from crm.activities where id = (select max(id) from crm.activities)")
    extract.run_extract("demo_crm", ["activities"], warehouse=crm)
    conn.commit()

    def estimate(where: str) -> float:
        plan = conn.execute(
            f"explain (format json) select * from raw.activities where {where}",  # noqa: S608
            (before,),
        ).fetchone()[0]
        return plan[0]["Plan"]["Plan Rows"]

    assert estimate("_extracted_at > %s") >= changed / 2
    assert estimate("_deleted_at > %s") >= 1
    (deleted,) = conn.execute(
        "select count(*) from raw.activities where _deleted_at > %s", (before,)
    ).fetchone()
    assert deleted == 1


def test_a_merge_keeps_the_version_it_replaces(crm, conn):
    """Every landing row a merge changes leaves its previous version in
    ops.landing_replaced_rows (what aggregating models need to take a moved activity out of
    its old month); rows the merge leaves alone leave nothing."""
    extract.run_extract("demo_crm", ["users", "opportunities", "activities"], warehouse=crm)
    cols = ["id", "owner_id", "occurred_at", "activity_type", "_deleted_at"]
    before = {
        r[0]: r
        for r in conn.execute(f"select {', '.join(cols)} from raw.activities")  # noqa: S608
    }
    assert conn.execute("select count(*) from ops.landing_replaced_rows").fetchone()[0] == 0
    with wh.connect(crm, autocommit=True) as src:
        # one activity moves to another month, one to another rep; nothing else changes
        moved = src.execute(
            "update crm.activities set occurred_at = occurred_at - interval '40 days', "
            "updated_at = updated_at + interval '1 day' "
            "where id = (select min(id) from crm.activities) returning id"
        ).fetchone()[0]
        handed = src.execute(
            "update crm.activities set owner_id = (select max(id) from crm.users), "
            "updated_at = updated_at + interval '1 day' "
            "where id = (select max(id) from crm.activities) returning id"
        ).fetchone()[0]
    extract.run_extract(
        "demo_crm", ["activities"], warehouse=crm, lookback_window=timedelta(days=10_000)
    )
    logged = conn.execute(
        "select id, prior->>'owner_id', (prior->>'occurred_at')::timestamptz, "
        "prior->>'activity_type', (prior->>'_deleted_at')::timestamptz, replaced_at, "
        "replaced_by_batch from ops.landing_replaced_rows where entity = 'activities'"
    ).fetchall()
    moved, handed = str(moved), str(handed)
    assert sorted(r[0] for r in logged) == sorted([moved, handed])
    for row in logged:
        assert tuple(row[:5]) == before[row[0]]
        assert (row[5], row[6]) == conn.execute(
            "select _extracted_at, _batch_id from raw.activities where id = %s", (row[0],)
        ).fetchone()
    after = conn.execute(
        "select occurred_at from raw.activities where id = %s", (moved,)
    ).fetchone()[0]
    assert after == before[moved][2] - timedelta(days=40)


@pytest.mark.parametrize("workers", [2, 1])
def test_entities_extract_two_at_a_time_and_one_failure_stops_none_of_the_others(
    crm, conn, monkeypatch, workers
):
    """Two workers (the default) land what one does, report in the plan's order, and an
    entity that fails is raised only after every other entity has been extracted, with one
    worker as with two."""
    from salesperf.landing import load

    monkeypatch.setenv("SALESPERF_EXTRACT_WORKERS", str(workers))

    real_merge = load.merge_copy
    running, most_at_once = set(), 0

    def tracked_merge(conn_, entity, *args, **kwargs):
        nonlocal most_at_once
        running.add(entity.name)
        most_at_once = max(most_at_once, len(running))
        try:
            if entity.name == "opportunities":
                raise RuntimeError("injected failure in one entity")
            time.sleep(0.05)  # long enough for the other worker to be inside a load too
            return real_merge(conn_, entity, *args, **kwargs)
        finally:
            running.discard(entity.name)

    monkeypatch.setattr("salesperf.sources.crm_db.merge_copy", tracked_merge)
    with pytest.raises(RuntimeError, match="injected failure in one entity"):
        extract.run_extract("demo_crm", warehouse=crm)
    assert most_at_once == workers
    status = dict(conn.execute("select entity, status from ops.load_batches").fetchall())
    assert status.pop("opportunities") == "failed"
    assert set(status) == set(E.ENTITIES) - {"opportunities"}
    assert set(status.values()) == {"success"}

    monkeypatch.setattr("salesperf.sources.crm_db.merge_copy", real_merge)
    results = extract.run_extract("demo_crm", warehouse=crm)
    assert list(results) == [p["entity"] for p in extract.plan("demo_crm")]
    assert_landing_equals_source(crm, conn)


@pytest.mark.parametrize("raw", ["0", "-1", "two", ""])
def test_extract_workers_setting_is_checked(monkeypatch, raw):
    monkeypatch.setenv("SALESPERF_EXTRACT_WORKERS", raw)
    with pytest.raises(ValueError, match="SALESPERF_EXTRACT_WORKERS must be a whole number"):
        extract.workers()


def test_size_estimates_read_the_source_catalog(crm):
    src = extract.get_source("demo_crm", crm)
    with wh.connect(src.location, autocommit=True) as c:
        c.execute("analyze crm.activities; analyze crm.teams")
    sizes = src.size_estimates()
    assert set(sizes) == set(src.entities)
    assert sizes["activities"] > sizes["teams"] > 0
