"""Airflow configured as code: the environment every Airflow process of the project gets."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from salesperf import airflow_env, config
from salesperf.commands import demo


def test_environment_is_complete_and_offline(server):
    env = airflow_env.environment(server, create_metadata_db=False)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(config.DAGS_DIR)
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS"] == "False"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == config.company_timezone()
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"/{server.dbname}_airflow")
    assert env["AIRFLOW_CONN_WAREHOUSE"] == server.airflow_uri()


def test_airflow_subprocesses_find_this_venvs_airflow(server):
    """`airflow standalone` spawns `airflow ...`: it must resolve without an activated venv."""
    env = airflow_env.environment(server, create_metadata_db=False)
    venv_bin = str(Path(sys.executable).parent)
    assert env["PATH"].split(os.pathsep)[0] == venv_bin
    found = subprocess.run(
        ["sh", "-c", "command -v airflow"],
        env={**os.environ, "PATH": "/usr/bin:/bin", **{"PATH": env["PATH"]}},
        capture_output=True, text=True,
    )  # fmt: skip
    assert found.stdout.strip() == str(Path(venv_bin) / "airflow")


def test_demo_reports_the_last_complete_periods(monkeypatch):
    monkeypatch.setattr(demo, "demo_as_of", lambda: dt.date(2026, 10, 31))
    assert demo._demo_dates() == {
        "next_month_start": "2026-11-01",  # monthly appraisal for October
        "next_monday": "2026-11-02",
        "quarter_start": "2026-10-01",  # quarterly review for Q3, not the unfinished Q4
    }
