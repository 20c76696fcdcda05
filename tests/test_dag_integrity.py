"""Every DAG file imports cleanly, is thin, and carries tags, an owner and retries."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesperf import airflow_env, config, dbt

DAG_FILES = sorted(p for p in config.DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
# Modules too heavy to import at the top of a DAG file: every scheduler parse would pay.
HEAVY = ("pandas", "great_expectations", "dbt", "cosmos", "matplotlib", "openpyxl", "psycopg")

_PROBE = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
out = {"errors": {k: v[-2000:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "tags": sorted(dag.tags or []),
        "fileloc": dag.fileloc,
        "tasks": [
            {"task_id": t.task_id, "owner": t.owner, "retries": t.retries,
             "env": {k: str(v) for k, v in (getattr(t, "env", None) or {}).items()},
             "append_env": getattr(t, "append_env", None),
             "operator": type(t).__name__, "upstream": sorted(t.upstream_task_ids),
             "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
             "threads": (t.profile_config.profile_mapping.profile_args or {}).get("threads")
             if getattr(t, "profile_config", None) else None,
             "dbt_cmd_flags": list(getattr(t, "dbt_cmd_flags", None) or [])}
            for t in dag.tasks
        ],
    }
print("@@" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagbag(server, tmp_path_factory):
    from salesperf.dbt import refresh_manifest

    refresh_manifest()  # transform_sales_marts renders from it; don't race a background parse
    env = airflow_env.environment(server, create_metadata_db=False)
    env["AIRFLOW_HOME"] = str(tmp_path_factory.mktemp("airflow_home"))
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(config.DAGS_DIR)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@"))
    return json.loads(line[2:])


def test_there_are_dag_files():
    assert DAG_FILES, f"no DAG files in {config.DAGS_DIR}"


def test_no_import_errors(dagbag):
    assert dagbag["errors"] == {}


def test_every_file_defines_a_dag(dagbag):
    files_with_dags = {Path(d["fileloc"]).name for d in dagbag["dags"].values()}
    assert {p.name for p in DAG_FILES} <= files_with_dags


def test_tags_owner_retries(dagbag):
    problems = []
    for dag_id, dag in dagbag["dags"].items():
        if not dag["tags"]:
            problems.append(f"{dag_id}: no tags")
        for t in dag["tasks"]:
            if not t["owner"] or t["owner"] == "airflow":
                problems.append(f"{dag_id}.{t['task_id']}: no owner")
            if t["retries"] < 1 and t["operator"] != "DbtProducerWatcherOperator":  # see below
                problems.append(f"{dag_id}.{t['task_id']}: no retries")
    assert problems == []


def test_dbt_tasks_run_with_the_project_session_settings(dagbag):
    """Cosmos' dbt tasks get the same PGOPTIONS as the CLI (jit off, work_mem) on top of the
    worker's environment (credentials, PATH)."""
    dbt_tasks = [
        t
        for t in dagbag["dags"]["transform_sales_marts"]["tasks"]
        if t["task_id"].startswith("dbt.") and t["operator"] != "EmptyOperator"
    ]
    assert len(dbt_tasks) > 50
    for t in dbt_tasks:
        assert "-c jit=off -c work_mem=64MB" in t["env"].get("PGOPTIONS", ""), t["task_id"]
        assert t["append_env"] is True, t["task_id"]


def test_dbt_runs_as_one_build_that_precedes_the_node_tasks(dagbag):
    """Watcher mode: one producer runs `dbt build` (unit tests left out, the profile's
    threads); every other dbt task reports a node of it and starts after it, so tasks run one
    at a time (`airflow dags test`) never wait for a producer that cannot start."""
    tasks = {t["task_id"]: t for t in dagbag["dags"]["transform_sales_marts"]["tasks"]}
    producer = tasks.pop("dbt.dbt_producer_watcher")
    assert producer["operator"] == "DbtProducerWatcherOperator"
    assert producer["upstream"] == ["validate_landing"]
    assert producer["dbt_cmd_flags"][-2:] == ["--exclude-resource-type", "unit_test"]
    assert producer["threads"] == dbt.profile_threads() > 1
    # a retried producer is skipped, not rerun, and would skip the whole run: no retries
    assert producer["retries"] == 0
    nodes = {k: t for k, t in tasks.items() if k.startswith("dbt.")}
    assert nodes.pop("dbt.dbt_producer_watcher_done")["upstream"] == ["dbt.dbt_producer_watcher"]
    assert len(nodes) > 100
    assert {t["operator"] for t in nodes.values()} <= {
        "DbtSeedWatcherOperator", "DbtSnapshotWatcherOperator", "DbtRunWatcherOperator",
        "DbtTestWatcherOperator",
    }  # fmt: skip
    roots = {k: t for k, t in nodes.items() if "dbt.dbt_producer_watcher" in t["upstream"]}
    assert roots and all(t["trigger_rule"] == "all_done_min_one_success" for t in roots.values())
    for key, t in nodes.items():  # every node task starts after the producer
        assert key in roots or any(u.startswith("dbt.") for u in t["upstream"]), key
    assert tasks["validate_marts"]["upstream"]  # after the group, as before


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_is_thin(path):
    source = path.read_text()
    tree = ast.parse(source)
    heavy = []
    for node in tree.body:  # top level only: imports inside tasks are fine
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        heavy += [n for n in names if n.split(".")[0] in HEAVY]
    assert heavy == [], f"heavy top-level imports in {path.name}: {heavy}"
    assert len(source.splitlines()) <= 150, f"{path.name} is not thin"
    assert 'if __name__ == "__main__":' in source


def test_no_view_is_reached_by_two_views_rebuilt_at_once(tmp_path):
    """dbt rebuilds a view by renaming the old one and dropping it with CASCADE, which drops
    the views built on it too. When two views that can run in parallel (neither upstream of
    the other) both reach a third view through views only, their two cascades can lock it in
    opposite orders: a deadlock (seen in a daily build, stg_crm__accounts against
    stg_crm__activities over int_customers__engagement). Such a model must be a table."""
    import itertools

    from salesperf import dbt
    from salesperf.warehouse import resolve

    dbt.run_dbt(["parse"], resolve(start_embedded=False), tmp_path / "t", tmp_path / "l")
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    views = {k for k, v in models.items() if v["config"]["materialized"] == "view"}
    view_parents = {
        k: [p for p in v["depends_on"]["nodes"] if p in views] for k, v in models.items()
    }

    def ancestors(key: str) -> set[str]:  # views reaching `key` through views only
        found = set()
        for parent in view_parents[key]:
            found |= {parent} | ancestors(parent)
        return found

    reach = {k: ancestors(k) for k in models}
    exposed = {
        key.split(".")[-1]: sorted(p.split(".")[-1] for pair in pairs for p in pair)
        for key in views
        if (pairs := [
            (a, b) for a, b in itertools.combinations(sorted(reach[key]), 2)
            if a not in reach[b] and b not in reach[a]
        ])
    }  # fmt: skip
    assert exposed == {}
