"""Warehouses with the appraisal marts (marts II) built, shared by test_appraisal*.py and
test_rewards*.py: built once per test process, dropped with the session's databases."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from salesperf import config
from salesperf import warehouse as wh
from salesperf.dbt import run_dbt
from salesperf.landing.migrations import migrate

# Everything the appraisal, reward and review marts need, without other marts or tests.
MARTS_II = ["+fct_quarterly_recommendations", "+fct_kpi_trends"]
SKIP_TESTS = ["--exclude-resource-type", "test", "unit_test"]

_built: dict = {}


def _new_db(server: wh.Warehouse, created: list[str], label: str) -> wh.Warehouse:
    name = f"sp_d_{label}_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    created.extend([name, f"{name}_democrm"])
    with wh.connect(db) as conn:
        migrate(conn)
    return db


def dbt(args: list[str], db: wh.Warehouse, work: Path, project: Path | None = None):
    """dbt with a target/log path of these tests (and optionally a copy of the project).

    Runs on the repository's project share one target path per test process, so dbt's
    partial parsing saves the parse after the first run."""
    if project is None:
        work = _built.setdefault("work", work)
    extra = ["--project-dir", str(project)] if project else []
    return run_dbt(
        [*args, *extra], db, target_path=work / "target", log_path=work / "logs", timeout=900
    )


def demo_marts(server, created: list[str], work: Path) -> wh.Warehouse:
    """The small demo CRM (seed 42), extracted, with marts II built."""
    if "demo" not in _built:
        from salesperf import extract
        from salesperf.sources import demo_crm

        db = _new_db(server, created, "demo")
        demo_crm.create("small", seed=42, warehouse=db)
        extract.run_extract("demo_crm", warehouse=db)
        dbt(["build", "--select", *MARTS_II, *SKIP_TESTS], db, work)
        _built["demo"] = db
    return _built["demo"]


def maven_marts(server, created: list[str], shared_data: Path, work: Path) -> wh.Warehouse:
    """The Maven CRM export imported through its mapping, with the appraisal built."""
    if "maven" not in _built:
        from salesperf.sources.files import import_dir

        db = _new_db(server, created, "maven")
        drop = work / "maven_drop"
        shutil.copytree(shared_data / "maven_crm", drop)
        import_dir("maven_crm", drop, warehouse=db, archive=False)
        dbt(
            ["build", "--select", "+fct_appraisal_scores", "+fct_appraisal_summary", *SKIP_TESTS],
            db,
            work,
        )
        _built["maven"] = db
    return _built["maven"]


def clone(server: wh.Warehouse, created: list[str], source: wh.Warehouse) -> wh.Warehouse:
    """A copy of a built warehouse (CREATE DATABASE ... TEMPLATE), for tests that change it."""
    from psycopg import sql

    name = f"sp_d_clone_{uuid.uuid4().hex[:8]}"
    with wh.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(source.dbname)
            )
        )
    created.append(name)
    return source.with_database(name)


def project_copy(dest: Path) -> Path:
    """A copy of the dbt project whose seeds a test may edit (the repo stays untouched)."""

    def build_output(folder: str, names: list[str]) -> list[str]:
        if folder != str(config.DBT_PROJECT_DIR):
            return []
        return [n for n in names if n.startswith(("target", "logs", "dbt_packages"))]

    shutil.copytree(config.DBT_PROJECT_DIR, dest, ignore=build_output)
    return dest


def rows(db: wh.Warehouse, sql: str, params: tuple = ()) -> list[tuple]:
    with wh.connect(db) as conn:
        return conn.execute(sql, params).fetchall()
