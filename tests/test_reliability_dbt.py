"""A dbt build killed with SIGKILL mid-way; the rerun gives marts equal to a clean run.

The tiny demo CRM is extracted and built once (the clean run; its marts are copied aside),
then `salesperf dbt build --full-refresh` runs in a subprocess and its whole process group
(the CLI and dbt) is killed while dbt is writing a mart. A plain rerun (what an Airflow retry
does) must leave every mart equal, row for row (`except all` both ways), to the clean run.
The builds cover the sales marts and everything under them, without dbt tests, to keep the
test short; ``test_dbt_build.py`` runs the full build with its tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from salesperf.dbt import run_dbt
from salesperf.extract import run_extract
from salesperf.sources import demo_crm

SALESPERF = str(Path(sys.executable).with_name("salesperf"))
# the sales marts and everything under them (seeds, snapshots, staging, intermediate),
# without dbt tests: enough to kill dbt mid-mart while keeping the test short
NO_TESTS = [
    "--select", "+fct_rep_kpis_monthly", "+fct_opportunities", "+fct_funnel_monthly", "+dim_reps",
    "--exclude-resource-type", "test", "unit_test",
]  # fmt: skip


def _marts(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " and table_type = 'BASE TABLE' order by 1")]  # fmt: skip


def _dbt_sessions(conn) -> int:
    return conn.execute(
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and pid <> pg_backend_pid() and application_name ilike 'dbt%'"
    ).fetchone()[0]


@pytest.mark.slow
def test_build_killed_mid_way_then_rerun_equals_a_clean_build(
    warehouse_db, conn, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("tiny", seed=12, warehouse=warehouse_db)
    run_extract("demo_crm", warehouse=warehouse_db)
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    run_dbt(["build", *NO_TESTS, *paths], warehouse_db)
    marts = _marts(conn)
    assert len(marts) >= 5
    conn.execute("create schema clean_run")
    for t in marts:
        conn.execute(f'create table clean_run."{t}" as select * from marts."{t}"')  # noqa: S608

    proc = subprocess.Popen(
        [SALESPERF, "dbt", "build", "--full-refresh", *NO_TESTS, *paths],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not conn.execute(
        "select 1 from pg_stat_activity where datname = current_database()"
        " and application_name ilike 'dbt%' and state = 'active' and query ilike '%\"marts\"%'"
    ).fetchone():
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "dbt never reached the marts"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its dbt child, as a dying worker
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 120
    while _dbt_sessions(conn):
        assert time.monotonic() < deadline, "the killed dbt's sessions did not end"
        time.sleep(0.1)

    result = run_dbt(["build", *NO_TESTS, *paths], warehouse_db)  # the retry

    assert result.success
    assert _marts(conn) == marts  # no leftover __dbt_tmp / __dbt_backup tables
    for t in marts:
        for a, b in (("marts", "clean_run"), ("clean_run", "marts")):
            (n,) = conn.execute(
                f'select count(*) from (select * from {a}."{t}" except all'  # noqa: S608
                f' select * from {b}."{t}") d'
            ).fetchone()
            assert n == 0, f"{t}: {n} rows in {a} not in {b}"


def test_dbt_sessions_get_the_project_settings_and_the_callers_override(
    warehouse_db, tmp_path, monkeypatch
):
    """dbt's connections run without JIT and with the project's work_mem (so sorts and hash
    aggregates of the marts stay in memory); a setting the caller puts in PGOPTIONS wins."""
    import json

    query = "select current_setting('work_mem') as work_mem, current_setting('jit') as jit"
    show = ["show", "--inline", query, "--output", "json", "-q"]

    def settings() -> dict:
        out = run_dbt(show, warehouse_db, target_path=tmp_path / "target").stdout
        return json.loads(out[out.index("{") :])["show"][0]

    monkeypatch.delenv("PGOPTIONS", raising=False)
    assert settings() == {"work_mem": "64MB", "jit": "off"}
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=8MB")
    assert settings() == {"work_mem": "8MB", "jit": "off"}
