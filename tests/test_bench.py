"""`make bench SIZE=small` as a smoke test: every stage runs and reports its figures.

No timing assertions: speed is judged from the benchmark's own output, not by tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from salesperf.bench import BUDGETS

STAGES = [
    "generate_demo_crm", "baseline_plain_copy", "extract_load", "dbt_full_build",
    "dbt_full_rebuild", "validation_whole_tables", "baseline_sql_transform", "source_advance_1_day",
    "incremental_daily_run", "incremental_run_no_changes", "validation_daily",
    "render_monthly_emails", "baseline_dbt_empty_warehouse",
]  # fmt: skip


@pytest.mark.slow
def test_bench_small_runs_every_stage(server, tmp_path):
    env = {**os.environ, **server.env()}
    left_in_tmp = set(Path(tempfile.gettempdir()).glob("salesperf-bench-*"))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("salesperf")), "bench", "--size", "small",
         "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "latest-small.json").read_text())
    # the run's working files sit beside its results (the next run replaces them), not in
    # /tmp, where every run used to leave 34 MB behind
    assert set(Path(tempfile.gettempdir()).glob("salesperf-bench-*")) <= left_in_tmp
    work = tmp_path / "work-small"
    assert (work / "dbt_target" / "run_results.json").is_file()
    assert list((work / "eml").rglob("*.eml"))
    stages = {s["name"]: s for s in result["stages"]}
    assert list(stages) == STAGES
    for name, s in stages.items():
        assert s["rows"] > 0 or name == "baseline_dbt_empty_warehouse", name
        assert s["seconds"] > 0 and s["peak_rss_mb"] > 0, name
    # dbt's own cost: the daily build of every node of the project on a warehouse with no
    # rows, in a database of its own that is gone afterwards
    empty = stages["baseline_dbt_empty_warehouse"]
    assert empty["rows"] == 0 and empty["detail"]["nodes"] > 100
    assert {"table", "incremental", "test"} <= set(empty["detail"]["dbt_node_seconds"])
    assert "empty_warehouse_build_vs_full" in result["ratios"]
    # The load moved exactly the rows the plain COPY moved, minus rows the CRM soft-deleted.
    assert 0 < stages["extract_load"]["rows"] <= stages["baseline_plain_copy"]["rows"]
    # where the dbt time went is recorded for every dbt stage
    for name in ("dbt_full_build", "dbt_full_rebuild", "incremental_daily_run",
                 "incremental_run_no_changes"):  # fmt: skip
        assert stages[name]["detail"]["slowest_nodes"], name
    # the budgets compare with the build of a warehouse that already holds its landing
    # indexes; the first build's extra cost is reported beside them
    full = stages["dbt_full_rebuild"]["seconds"]
    daily = stages["incremental_daily_run"]["seconds"]
    assert result["ratios"]["incremental_vs_full"] == round(daily / full, 3)
    assert "first_build_vs_full" in result["ratios"]
    # the daily runs say how their time splits between the extract and dbt, and within dbt
    for name in ("incremental_daily_run", "incremental_run_no_changes"):
        detail = stages[name]["detail"]
        assert detail["extract_seconds"] > 0 and detail["dbt_seconds"] > 0, name
        assert {"table", "incremental", "view", "test"} <= set(detail["dbt_node_seconds"]), name
    # dbt parsed the project whole once, in the first build; the daily runs reuse that
    # parse, as a pipeline's runs do (a change of vars between the builds and the daily
    # run made the bench's daily run parse every file again)
    parsed = {
        n: stages[n]["detail"]["full_parse"] for n in stages if "full_parse" in stages[n]["detail"]
    }
    assert parsed == {
        "dbt_full_build": True, "dbt_full_rebuild": False,
        "incremental_daily_run": False, "incremental_run_no_changes": False,
    }  # fmt: skip
    # with nothing changed at the source, the second run lands nothing
    assert stages["incremental_daily_run"]["detail"]["rows_landed"] > 0
    assert stages["incremental_run_no_changes"]["detail"]["rows_landed"] == 0
    assert "no_change_run_vs_full" in result["ratios"]
    for name in ("validation_whole_tables", "validation_daily"):
        assert "landing passed" in stages[name]["note"], name
        assert "marts passed" in stages[name]["note"], name
    # the first run reads every row, the day's run only the landing rows written since
    assert "(full)" in stages["validation_whole_tables"]["note"]
    assert "incremental" in stages["validation_daily"]["note"]
    assert set(result["verdicts"]) == set(BUDGETS)
    md = (tmp_path / "latest-small.md").read_text()
    assert "| extract_load |" in md and "PostgreSQL" in md
    # the benchmark works in databases of its own and leaves the server's default alone
    bench_db = server.with_database(f"{server.dbname}_bench_small")
    from salesperf import warehouse as wh

    with wh.connect(bench_db) as conn:
        assert conn.execute("select count(*) from marts.dim_reps").fetchone()[0] > 0
    with wh.connect(server) as conn:
        left = conn.execute(
            "select 1 from pg_database where datname = %s", (bench_db.dbname + "_empty",)
        ).fetchone()
    assert left is None
    wh.drop_database(server, bench_db.dbname)
    wh.drop_database(server, bench_db.dbname + "_democrm")


def test_verdicts_follow_each_budget_direction():
    """A floor budget (load, rendering) is met at or above its limit, a ceiling budget
    (incremental, validation, memory) at or below it; the table shows the same limits."""
    from salesperf.bench import BenchResult, Stage, _verdicts

    def result(daily_s: float, emails: int) -> BenchResult:
        r = BenchResult("t", "now", {"cores": 2, "memory_gb": 1, "postgres": "PostgreSQL x",
                                     "python": "3.11"})  # fmt: skip
        r.stages = [
            Stage("baseline_plain_copy", rows=100, seconds=1.0),
            Stage("extract_load", rows=100, seconds=2.0),  # 0.5 x COPY: on the floor
            Stage("dbt_full_build", rows=1, seconds=100.0),
            Stage("baseline_sql_transform", rows=1, seconds=1.0),
            Stage("incremental_daily_run", rows=1, seconds=daily_s),
            Stage("validation_whole_tables", rows=1, seconds=26.0),
            Stage("validation_daily", rows=1, seconds=25.0),
            Stage("render_monthly_emails", rows=emails, seconds=1.0),
            Stage("generate_demo_crm", rows=1, seconds=1.0, largest_process_rss_mb=1024.0),
        ]
        _verdicts(r)
        return r

    ok = result(daily_s=15.0, emails=50)
    assert ok.verdicts == {
        "load_vs_copy": "met", "incremental_vs_full": "met", "validation_vs_full": "MISSED",
        "daily_validation_vs_full": "met", "peak_rss_mb": "met", "emails_per_s": "met",
    }  # fmt: skip
    bad = result(daily_s=15.1, emails=49)
    assert bad.verdicts["incremental_vs_full"] == bad.verdicts["emails_per_s"] == "MISSED"
    assert "transform_vs_sql_baseline" in ok.ratios and "transform_vs_sql_baseline" not in BUDGETS
    assert "| incremental daily run ≤ 0.15 × full build | 0.15 | met |" in ok.to_markdown()
    # with a second full build (landing indexes in place), the budgets compare with it
    rebuilt = result(daily_s=15.0, emails=50)
    rebuilt.stages.append(Stage("dbt_full_rebuild", rows=1, seconds=75.0))
    _verdicts(rebuilt)
    assert rebuilt.ratios["incremental_vs_full"] == 0.2
    assert rebuilt.verdicts["incremental_vs_full"] == "MISSED"
    assert rebuilt.ratios["first_build_vs_full"] == round(100 / 75, 3)
