"""Airflow configured as code: the environment every Airflow process of this project gets.

Nothing here imports Airflow. ``AIRFLOW_HOME`` is a git-ignored folder; the metadata
database is a database named ``<warehouse db>_airflow`` on the warehouse's server (the
embedded one by default), so no SQLite and no second server are needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from salesperf import config
from salesperf.warehouse import Warehouse, create_database

ADMIN_USER = "admin"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or config.LOCAL_DIR / "airflow")


def metadata_db_name(warehouse: Warehouse) -> str:
    return f"{warehouse.dbname}_airflow"


def smtp_conn_uri() -> str:
    """Airflow connection `smtp_default`; defaults to the local mail catcher."""
    host = os.environ.get("SALESPERF_SMTP_HOST", "127.0.0.1")
    port = os.environ.get("SALESPERF_SMTP_PORT", "8025")
    return (
        f"smtp://{host}:{port}?disable_tls=true&disable_ssl=true"
        "&from_email=reports%40salesperf.local&timeout=10&retry_limit=0"
    )


def environment(warehouse: Warehouse, *, create_metadata_db: bool = True) -> dict[str, str]:
    """Environment variables for Airflow processes (merged over os.environ by callers)."""
    meta = warehouse.with_database(metadata_db_name(warehouse))
    if create_metadata_db:
        create_database(warehouse, meta.dbname)
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "SALESPERF_HOME": str(config.PROJECT_ROOT),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.PLUGINS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": config.company_timezone(),
        "AIRFLOW__CORE__EXECUTOR": os.environ.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta.sqlalchemy_url(),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r"salesperf\..*",
        # No network calls: Cosmos and Airflow usage statistics off.
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "AIRFLOW_CONN_SMTP_DEFAULT": os.environ.get("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn_uri()),
        # `airflow standalone` spawns `airflow ...` subprocesses: this venv's bin comes first.
        "PATH": os.pathsep.join(
            p for p in (str(Path(sys.executable).parent), os.environ.get("PATH", "")) if p
        ),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(config.PLUGINS_DIR), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    env.update(warehouse.env())
    return env


def run_airflow(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run the Airflow CLI of this virtualenv with the project environment."""
    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(exe), *args], env={**os.environ, **env}, **kwargs)


def migrate_metadata(env: dict[str, str]) -> None:
    run_airflow(["db", "migrate"], env, check=True, capture_output=True, text=True)
