"""Running the dbt project: a CLI wrapper and the Cosmos configuration for the DAG.

dbt always runs as a subprocess of this virtualenv's ``dbt`` with the resolved warehouse's
environment (``Warehouse.env()``), so the CLI, tests and Airflow share one profile and no
dbt global state leaks between runs. Nothing here downloads anything: the project has no
dbt packages, and anonymous usage statistics are off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from salesperf import config
from salesperf.warehouse import Warehouse, resolve

PROFILE_NAME = "salesperf"
TARGET_NAME = "default"
MARTS_SCHEMA = "marts"


class DbtError(RuntimeError):
    """dbt exited with a non-zero code; the message names the command and the last lines."""


@dataclass
class DbtResult:
    args: list[str]
    returncode: int
    stdout: str

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.stdout.splitlines()[-lines:])


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


# Session settings for every dbt connection (libpq reads PGOPTIONS). JIT compilation of
# PostgreSQL's plans costs about a second per large query and gains nothing on these
# short-lived analytical statements: fct_stage_transitions' incremental query took 1.56 s
# with JIT and 0.54 s without (medium bench data, EXPLAIN ANALYZE).
# PostgreSQL's default work_mem (4 MB) spills the marts' sorts and hash aggregates to disk:
# int_customers__engagement took 4.2 s with it and 2.8 s with 64 MB, and a medium daily
# build's SQL 111 s instead of 102 s. dbt runs 4 threads, each query a few such nodes (and
# parallel workers): well under a gigabyte in all.
DBT_WORK_MEM = "64MB"
DBT_PGOPTIONS = f"-c jit=off -c work_mem={DBT_WORK_MEM}"


def dbt_session_env() -> dict[str, str]:
    """PGOPTIONS for dbt: ours, then whatever the caller's environment already sets (a
    setting given there wins: PostgreSQL applies the last one)."""
    extra = os.environ.get("PGOPTIONS", "").strip()
    return {"PGOPTIONS": f"{DBT_PGOPTIONS} {extra}".strip()}


def dbt_env(warehouse: Warehouse | None = None) -> dict[str, str]:
    """Environment for a dbt process: the warehouse credentials and no network calls."""
    wh = warehouse or resolve()
    return {
        **os.environ,
        **wh.env(),
        **dbt_session_env(),
        "DBT_PROFILES_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    }


def run_dbt(
    args: list[str],
    warehouse: Warehouse | None = None,
    target_path: str | Path | None = None,
    log_path: str | Path | None = None,
    *,
    check: bool = True,
    capture: bool = True,
    timeout: float | None = None,
) -> DbtResult:
    """Run ``dbt <args>`` in the project with the warehouse's credentials.

    ``target_path``/``log_path`` keep concurrent runs (tests, Airflow, a developer) from
    sharing one partial-parse state. With ``check`` a failed run raises :class:`DbtError`.
    """
    cmd = [dbt_executable(), *args]
    extra: list[str] = []
    if target_path is not None:
        extra += ["--target-path", str(target_path)]
    if log_path is not None:
        extra += ["--log-path", str(log_path)]
    # Sub-command options go after the (possibly two-word) sub-command: append them.
    cmd += extra
    proc = subprocess.run(
        cmd,
        cwd=config.DBT_PROJECT_DIR,
        env=dbt_env(warehouse),
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
        timeout=timeout,
    )
    result = DbtResult(cmd[1:], proc.returncode, proc.stdout or "")
    if check and not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{result.tail()}")
    return result


def transform(
    warehouse: Warehouse | None = None,
    *,
    full_refresh: bool = False,
    target_path: str | Path | None = None,
    log_path: str | Path | None = None,
    vars_yaml: str | None = None,
    capture: bool = True,
    unit_tests: bool = False,
) -> list[DbtResult]:
    """Seeds, snapshots and models with their data tests, in dependency order (one `dbt
    build`).

    One `dbt build` rather than `seed`, `snapshot`, `build` in turn: the snapshots read
    staging views, which must exist first on a fresh warehouse. Unit tests check the SQL
    against fixed inputs, not the data, so they run in the test suite (``unit_tests=True``
    or ``dbt test --select test_type:unit``), not in every production build.
    An incremental build leaves out the seeds and their own tests while the warehouse holds
    them as the files define them (:mod:`salesperf.seed_state`); a full refresh loads them.
    """
    from salesperf import seed_state

    warehouse = warehouse or resolve()
    args = ["build"]
    skip_seeds = not full_refresh and seed_state.unchanged(warehouse)
    if full_refresh:
        args.append("--full-refresh")
    if skip_seeds:
        args += seed_state.SKIP_SEEDS_ARGS
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if vars_yaml:
        args += ["--vars", vars_yaml]
    result = run_dbt(args, warehouse, target_path=target_path, log_path=log_path, capture=capture)
    if not skip_seeds:  # loaded and tested in this build (run_dbt raised if it failed)
        seed_state.record(warehouse)
    return [result]


# --- Cosmos (imported lazily: only the DAG needs these) ------------------------------------

MANIFEST_DIR = config.LOCAL_DIR / "dbt_manifest"
_PROJECT_PARTS = ("dbt_project.yml", "models", "seeds", "snapshots", "macros", "tests")


def project_mtime() -> float:
    """When a file of the dbt project (models, seeds, snapshots, macros, tests) last changed."""
    latest = 0.0
    for part in _PROJECT_PARTS:
        path = config.DBT_PROJECT_DIR / part
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        for f in files:
            latest = max(latest, f.stat().st_mtime)
    return latest


def _manifest_is_fresh(manifest: Path) -> bool:
    return manifest.exists() and manifest.stat().st_mtime >= project_mtime()


def refresh_manifest() -> Path:
    """Run `dbt parse` into MANIFEST_DIR and publish manifest.json atomically (under a lock)."""
    import fcntl
    import shutil

    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    manifest = MANIFEST_DIR / "manifest.json"
    with (MANIFEST_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _manifest_is_fresh(manifest):
            build = MANIFEST_DIR / "build"
            # `dbt parse` needs the profile's variables, not a connection: resolve, never start.
            run_dbt(["parse"], resolve(start_embedded=False), build, MANIFEST_DIR / "logs")
            shutil.copyfile(build / "manifest.json", MANIFEST_DIR / "manifest.json.tmp")
            os.replace(MANIFEST_DIR / "manifest.json.tmp", manifest)
    return manifest


def _refresh_in_background() -> None:
    """Start `refresh_manifest` in a detached process unless one is already running."""
    import fcntl

    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_DIR / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a refresh is running
    subprocess.Popen(
        [sys.executable, "-m", "salesperf.dbt", "refresh-manifest"],
        env={**os.environ, "PYTHONPATH": str(config.PLUGINS_DIR)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def ensure_manifest(wait_seconds: float = 25.0) -> Path:
    """A manifest.json of the project for Cosmos (LoadMode.DBT_MANIFEST).

    The DAG renders from it: no `dbt ls` subprocess and no database at DAG-parse time, and
    parsing stays far below Airflow's import timeout. When a project file changed, the old
    manifest is used once more while `dbt parse` refreshes it in the background. Only when
    there is none yet does this wait for the first one (at most ``wait_seconds``).
    """
    import time

    manifest = MANIFEST_DIR / "manifest.json"
    if _manifest_is_fresh(manifest):
        return manifest
    _refresh_in_background()
    if manifest.exists():
        return manifest
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if manifest.exists():
            return manifest
    raise RuntimeError(
        f"the dbt manifest is being generated in the background ({MANIFEST_DIR}); "
        "the DAG appears on the next parse (or run `salesperf dbt-manifest` first)"
    )


def cosmos_project_config():
    from cosmos import ProjectConfig

    return ProjectConfig(
        dbt_project_path=config.DBT_PROJECT_DIR,
        manifest_path=ensure_manifest(),
        install_dbt_deps=False,
        partial_parse=True,
    )


def profile_threads() -> int:
    """dbt threads of the project's profile (``dbt_project/profiles.yml``), which Cosmos'
    profile mapping would otherwise leave at 1."""
    import yaml

    profiles = yaml.safe_load((config.DBT_PROJECT_DIR / "profiles.yml").read_text())
    return int(profiles[PROFILE_NAME]["outputs"][TARGET_NAME]["threads"])


def cosmos_profile_config():
    """dbt profile from the Airflow connection `warehouse` (password passed as env var)."""
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
        # Local and embedded servers trust loopback logins: a connection without a password
        # is valid (Cosmos would refuse it).
        required_fields = ["host", "user", "dbname"]

        def get_dbt_value(self, name):
            value = super().get_dbt_value(name)
            return "" if name == "password" and value is None else value

    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profile_mapping=WarehouseProfileMapping(
            conn_id="warehouse",
            profile_args={"schema": "analytics", "threads": profile_threads()},
        ),
    )


def cosmos_execution_config():
    """One `dbt build` for the whole task group (Cosmos' watcher mode), not one dbt process
    per node.

    In the local mode every model, seed, snapshot and test group is its own dbt invocation,
    each parsing the project again: 160 tasks took 355 s for the small demo, whose single
    `dbt build` takes about 15 s. In the watcher mode a producer task runs one `dbt build`
    (the same command as ``salesperf transform``: unit tests left out) and a sensor per node
    reports that node's result from it, so the graph and the per-model status stay in
    Airflow. Retrying a failed node's task runs dbt for that node alone.
    dbt runs as a subprocess: in-process, Cosmos turns every dbt event (debug ones too) into
    JSON for its callback, and the small demo's build took 77 s instead of 18.
    """
    from cosmos import ExecutionConfig
    from cosmos.constants import ExecutionMode, InvocationMode

    return ExecutionConfig(
        execution_mode=ExecutionMode.WATCHER,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=dbt_executable(),
        # No retries for the producer: Cosmos never runs a second build on a retry, it marks
        # the producer skipped, and a skipped producer skips every node task and the mart
        # validation after them: the run would end "successful" with a failed dbt test.
        # Failed, it lets each node task report its own node (the failed test's task fails).
        setup_operator_args={
            "dbt_cmd_flags": ["--exclude-resource-type", "unit_test"],
            "retries": 0,
        },
    )


def run_watcher_producer_first(group) -> None:
    """Make the watcher producer the upstream of every node task of ``group`` that has no
    upstream inside the group. Call it after the group's own upstream tasks are set.

    Cosmos does this for a whole-DAG ``DbtDag`` but not for a ``DbtTaskGroup``, whose sensors
    start with the producer and wait for it. Where tasks run one after another
    (``airflow dags test``, a one-slot worker) a sensor started first waits for a producer
    that cannot start. Started after it, a sensor finds its node's result at once.
    ``all_done_min_one_success``: the node tasks also run when the build failed (each then
    reports its own node's failure or skip) but not when an upstream of the group failed.
    """
    from airflow.task.trigger_rule import TriggerRule
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    prefix = f"{group.group_id}."
    producer = group.children[prefix + PRODUCER_WATCHER_TASK_ID]
    gate = prefix + PRODUCER_WATCHER_DONE_TASK_ID
    for task in list(group.iter_tasks()):
        if task.task_id in (producer.task_id, gate):
            continue
        if not any(up.startswith(prefix) for up in task.upstream_task_ids):
            producer >> task
            task.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS


def cosmos_render_config(**kwargs):
    from cosmos import RenderConfig
    from cosmos.constants import LoadMode, TestBehavior

    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        test_behavior=TestBehavior.AFTER_EACH,
        # A relationships test has two parents; attached to one of them it can run before
        # the other exists. Detached, it runs as its own task after both.
        should_detach_multiple_parents_tests=True,
        emit_datasets=False,
        **kwargs,
    )


def mart_row_counts(warehouse: Warehouse | None = None) -> dict[str, int]:
    """Row count of every table in schema `marts` (for `salesperf transform` and the demo)."""
    from psycopg import sql

    from salesperf.warehouse import connect

    with connect(warehouse or resolve()) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
                (MARTS_SCHEMA,),
            )
        ]
        return {
            t: conn.execute(
                sql.SQL("select count(*) from {}.{}").format(
                    sql.Identifier(MARTS_SCHEMA), sql.Identifier(t)
                )
            ).fetchone()[0]
            for t in tables
        }


if __name__ == "__main__":
    if sys.argv[1:] == ["refresh-manifest"]:
        refresh_manifest()
