"""The CRM extract under faults: SIGKILL mid-load, and two runs of the same extract at once.

`salesperf extract` runs as a real subprocess against the small demo CRM. A failure raised
between COPY and merge is covered by ``tests/test_crm_extract.py``; here the process is
killed by the kernel, which gives it no chance to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_crm_extract import assert_landing_equals_source, source_rows

from salesperf import extract
from salesperf.landing import entities as E
from salesperf.sources import demo_crm

SALESPERF = str(Path(sys.executable).with_name("salesperf"))
VICTIM = "activities"  # the largest entity: killed while its load is running


@pytest.fixture
def crm(warehouse_db, monkeypatch):
    """The small demo CRM in the test database (schema crm), read over its own connection."""
    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("small", seed=7, warehouse=warehouse_db)
    return warehouse_db


def _extract_process() -> subprocess.Popen:
    # one entity at a time: the kill must find earlier entities whole and the victim mid-load
    # (two workers start with the victim, the largest, so nothing would be finished yet)
    return subprocess.Popen(
        [SALESPERF, "extract"],
        env={**os.environ, "SALESPERF_EXTRACT_WORKERS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for_extract_sessions_to_end(conn) -> None:
    """A killed client's server session rolls back and ends shortly after the client died."""
    deadline = time.monotonic() + 60
    while conn.execute(
        "select count(*) from pg_stat_activity where application_name = 'salesperf-extract'"
        " and pid <> pg_backend_pid() and datname = current_database()"
    ).fetchone()[0]:
        assert time.monotonic() < deadline, "the killed extract's session did not end"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_during_a_load_then_rerun_lands_exactly_the_source(crm, conn):
    from salesperf.landing.migrations import migrate

    migrate(conn)
    proc = _extract_process()
    deadline = time.monotonic() + 120
    while not conn.execute(
        "select 1 from ops.load_batches where entity = %s and status = 'running'", (VICTIM,)
    ).fetchone():
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)  # into the read/COPY of the entity
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    _wait_for_extract_sessions_to_end(conn)

    # nothing partial: the killed entity has no rows and no watermark; earlier ones are whole
    assert conn.execute(f"select count(*) from raw.{VICTIM}").fetchone()[0] == 0  # noqa: S608
    state = dict(conn.execute("select entity, watermark from ops.extract_state"))
    assert VICTIM not in state
    done = [e for e in E.ENTITIES if e in state]
    assert done, "the kill came before any entity finished"
    for entity in done:
        landed = conn.execute(f"select count(*) from raw.{entity}").fetchone()[0]  # noqa: S608
        assert landed == len(source_rows(crm, entity)), entity
    killed = conn.execute(
        "select status from ops.load_batches where entity = %s", (VICTIM,)
    ).fetchall()
    assert killed == [("running",)]  # never 'success': the run that died is visible as such

    results = extract.run_extract("demo_crm", warehouse=crm)

    assert results[VICTIM]["inserted"] == len(source_rows(crm, VICTIM))
    assert_landing_equals_source(crm, conn)
    assert conn.execute(
        "select count(*) from ops.load_batches where status = 'success'"
    ).fetchone()[0] == len(done) + len(E.ENTITIES)


@pytest.mark.slow
def test_two_extracts_at_once_are_serialised_and_land_each_row_once(crm, conn):
    """Both runs are held at the first entity's lock until both wait there, then released
    together: they really contend, and the advisory lock makes the second wait."""
    from salesperf.landing.migrations import migrate

    migrate(conn)
    first = extract.plan("demo_crm")[0]["entity"]
    lock = ("select pg_advisory_{}(hashtext(%s))", f"extract:demo_crm:{first}")
    conn.execute(lock[0].format("lock"), (lock[1],))
    procs = [_extract_process() for _ in range(2)]
    deadline = time.monotonic() + 120
    while (
        conn.execute(
            "select count(*) from pg_locks l join pg_stat_activity a using (pid)"
            " where l.locktype = 'advisory' and not l.granted"
            " and a.application_name = 'salesperf-extract'"
        ).fetchone()[0]
        < 2
    ):
        assert all(p.poll() is None for p in procs), "an extract ended early"
        assert time.monotonic() < deadline, "the extracts never reached the lock"
        time.sleep(0.02)
    (released_at,) = conn.execute("select clock_timestamp()").fetchone()
    conn.execute(lock[0].format("unlock"), (lock[1],))
    outputs = [p.communicate(timeout=300)[0].decode(errors="replace") for p in procs]

    assert [p.returncode for p in procs] == [0, 0], outputs
    assert_landing_equals_source(crm, conn)
    per_entity = {
        entity: (runs, inserted)
        for entity, runs, inserted in conn.execute(
            "select entity, count(*), sum(rows_loaded) from ops.load_batches"
            " where status = 'success' group by entity"
        )
    }
    for entity in E.ENTITIES:
        runs, inserted = per_entity[entity]
        # both runs succeeded; the one that waited for the lock found everything landed
        assert runs == 2, entity
        assert inserted == len(source_rows(crm, entity)), entity
    finished = [r[0] for r in conn.execute(
        "select finished_at from ops.load_batches where entity = %s", (first,))]  # fmt: skip
    assert all(f > released_at for f in finished), "finished_at must be the commit time"
