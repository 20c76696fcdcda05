"""docker-compose.yml cannot run here (no Docker engine), so its structure is checked
against the code: same images and versions, env names the code reads, connections, mounts."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from salesperf.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _lock_version(package: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} not pinned in requirements.lock")


def test_services(compose):
    services = compose["services"]
    for name in ["postgres", "mailpit", "airflow-init", *AIRFLOW_SERVICES]:
        assert name in services, name
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["command"] == "celery worker"
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        )


def test_image_is_official_airflow_at_the_locked_version():
    dockerfile = (ROOT / "Dockerfile").read_text()
    m = re.search(r"^FROM apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", dockerfile, re.M)
    assert m, "Dockerfile must build FROM the official apache/airflow image"
    assert m.group(1) == _lock_version("apache-airflow")
    assert m.group(2) == "3.11"
    assert "requirements.lock" in dockerfile


def test_image_can_draw_chinese_chart_labels_and_runs_as_airflow():
    """zh_CN is the default locale: without a CJK font the charts fall back to English
    codes and ranks (charts.label). The font is the one CI installs; the image then drops
    back to the airflow user, as the official image expects."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "fonts-wqy-microhei" in ci
    install = re.search(r"^RUN apt-get update .*fonts-wqy-microhei.*$", dockerfile, re.M)
    assert install, "the image installs fonts-wqy-microhei"
    users = re.findall(r"^USER (\w+)", dockerfile, re.M)
    assert users and users[-1] == "airflow"
    assert dockerfile.index("USER root") < install.start() < dockerfile.rindex("USER airflow")


def test_executor_defaults_to_local_and_celery_uses_redis(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")


def test_every_required_variable_is_in_env_example(compose, env_example):
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))  # no default -> must be set
    assert referenced, "expected ${VAR} references"
    assert referenced <= set(env_example), referenced - set(env_example)
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_code_and_compose_use_the_same_env_names(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    code = "\n".join(p.read_text() for p in (ROOT / "plugins" / "salesperf").rglob("*.py"))
    for name in [
        "AIRFLOW_CONN_WAREHOUSE",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "SALESPERF_HOME",
        "SALESPERF_LOCAL_DIR",
        "SALESPERF_TIMEZONE",
        "SALESPERF_DATA_TEAM_EMAILS",
    ]:
        assert name in env, f"compose does not set {name}"
        assert name in code, f"the code does not read {name}"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "false"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"


def test_project_folders_are_mounted_where_the_code_looks(compose):
    common = compose["services"]["airflow-scheduler"]
    home = common["environment"]["SALESPERF_HOME"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in common["volumes"] if v.startswith("./")}
    for folder in ["dags", "plugins", "dbt_project", "expectations"]:
        assert (ROOT / folder).is_dir()
        assert mounts[f"./{folder}"] == f"{home}/{folder}"
    assert common["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == f"{home}/dags"


def test_connections_point_at_compose_services(compose, env_example):
    wh = Warehouse(
        env_example["AIRFLOW_CONN_WAREHOUSE"].replace("postgres://", "postgresql://", 1), "env"
    )
    assert wh.host == "postgres" and wh.port == 5432
    init_sql = (ROOT / "docker" / "init-databases.sql").read_text()
    assert f"create database {wh.dbname} owner {wh.user}" in init_sql
    smtp = urlsplit(env_example["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert smtp.hostname == "mailpit"
    assert f"{smtp.port}:{smtp.port}" in compose["services"]["mailpit"]["ports"][1]
    meta = urlsplit(env_example["AIRFLOW_METADATA_URL"])
    assert meta.hostname == "postgres" and meta.path == "/airflow"
    assert "create database airflow" in init_sql


def test_postgres_major_matches_the_tested_server(compose):
    assert compose["services"]["postgres"]["image"] == "postgres:15"
