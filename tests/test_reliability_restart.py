"""The warehouse restarted in the middle of a run.

The test starts an embedded PostgreSQL of its own (own data folder, own free port), never the
machine's server: an extract runs against it in a subprocess, the server is stopped
mid-run (``pg_ctl stop -m fast`` terminates every session, as a restart does), the run fails
with a readable error, a run while the server is down fails visibly too, and after the
restart the retry lands exactly the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from test_crm_extract import assert_landing_equals_source

from salesperf import extract
from salesperf import warehouse as wh
from salesperf.landing.migrations import migrate
from salesperf.mailcatcher import free_port
from salesperf.sources import demo_crm

SALESPERF = str(Path(sys.executable).with_name("salesperf"))


@pytest.fixture
def embedded(monkeypatch):
    # not under pytest's tmp_path: another pytest session starting meanwhile resets
    # /tmp/pytest-of-<user> to mode 0700, which locks out the server's own system user
    base = Path(tempfile.mkdtemp(prefix="salesperf-restart-"))
    for key in ("WAREHOUSE_URL", "AIRFLOW_CONN_WAREHOUSE", "DEMO_CRM_URL"):
        monkeypatch.delenv(key, raising=False)
    for key in list(os.environ):
        if key.startswith("SALESPERF_PG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SALESPERF_EMBEDDED_DIR", str(base / "pg"))
    monkeypatch.setenv("SALESPERF_EMBEDDED_PORT", str(free_port()))
    try:
        w = wh.resolve()
        assert w.origin == "embedded" and str(base) in str(wh.embedded_dir())
        yield w
    finally:
        wh.stop_embedded()
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_restart_mid_extract_fails_visibly_and_the_retry_loses_nothing(embedded, monkeypatch):
    w = embedded
    monkeypatch.setenv("DEMO_CRM_URL", w.url)
    with wh.connect(w, autocommit=True) as conn:
        migrate(conn)
    demo_crm.create("small", seed=5, warehouse=w)

    proc = subprocess.Popen(
        [SALESPERF, "extract"], env=dict(os.environ), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    with wh.connect(w, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while not conn.execute(
            "select 1 from ops.load_batches where entity = 'activities'"
        ).fetchone():
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert wh.stop_embedded()  # the restart, first half: every session is terminated
    out = proc.communicate(timeout=120)[0].decode(errors="replace")

    assert proc.returncode != 0, out
    assert "terminat" in out or "cannot connect" in out or "closed" in out, out
    # a task run while the server is down fails at once with one clear line
    with pytest.raises(wh.WarehouseError, match=r"cannot connect to the warehouse at 127\.0\.0\.1"):
        extract.run_extract("demo_crm", warehouse=w)

    wh.ensure_embedded()  # second half: the server is back
    extract.run_extract("demo_crm", warehouse=w)  # the retry

    with wh.connect(w, autocommit=True) as conn:
        assert_landing_equals_source(w, conn)
        statuses = dict(
            conn.execute("select status, count(*) from ops.load_batches group by 1").fetchall()
        )
    assert statuses.get("success", 0) >= len(extract.plan("demo_crm"))
