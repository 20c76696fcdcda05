"""`make bench SIZE=small` as a smoke test: every stage runs and reports its figures.

No timing assertions: speed is judged from the benchmark's own output, not by tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STAGES = [
    "generate_demo_crm", "baseline_plain_copy", "extract_load", "dbt_full_build",
    "baseline_sql_transform", "source_advance_1_day", "incremental_daily_run", "validation",
    "render_monthly_emails",
]  # fmt: skip


@pytest.mark.slow
def test_bench_small_runs_every_stage(server, tmp_path):
    env = {**os.environ, **server.env()}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("salesperf")), "bench", "--size", "small",
         "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "latest-small.json").read_text())
    stages = {s["name"]: s for s in result["stages"]}
    assert list(stages) == STAGES
    for name, s in stages.items():
        assert s["rows"] > 0, name
        assert s["seconds"] > 0 and s["peak_rss_mb"] > 0, name
    # The load moved exactly the rows the plain COPY moved, minus rows the CRM soft-deleted.
    assert 0 < stages["extract_load"]["rows"] <= stages["baseline_plain_copy"]["rows"]
    # where the dbt time went is recorded for every dbt stage
    for name in ("dbt_full_build", "incremental_daily_run"):
        assert stages[name]["detail"]["slowest_nodes"], name
    assert "landing passed" in stages["validation"]["note"]
    assert "marts passed" in stages["validation"]["note"]
    assert set(result["verdicts"]) == {
        "load_vs_copy", "incremental_vs_full", "validation_vs_full", "peak_rss_mb", "emails_per_s"
    }  # fmt: skip
    md = (tmp_path / "latest-small.md").read_text()
    assert "| extract_load |" in md and "PostgreSQL" in md
    # the benchmark works in databases of its own and leaves the server's default alone
    bench_db = server.with_database(f"{server.dbname}_bench_small")
    from salesperf import warehouse as wh

    with wh.connect(bench_db) as conn:
        assert conn.execute("select count(*) from marts.dim_reps").fetchone()[0] > 0
    wh.drop_database(server, bench_db.dbname)
    wh.drop_database(server, bench_db.dbname + "_democrm")
