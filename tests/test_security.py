"""Security: identifiers from configuration are data, secrets stay out of logs.

Covered elsewhere (see docs/reliability.md): hostile file headers and mapping column names
(``test_file_import.py``), the BI role reading marts only (``test_dbt_build.py``), XLSX
formula neutralisation and escaped HTML/headers in report emails (``test_reports.py``,
``test_outbox.py``), GX files without credentials (``test_validation.py``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg import sql

from salesperf import extract
from salesperf import warehouse as wh
from salesperf.mailcatcher import free_port
from salesperf.sources.crm_db import CrmDatabaseSource, TableMapping

REPO = Path(__file__).resolve().parents[1]
SALESPERF = str(Path(sys.executable).with_name("salesperf"))
EVIL_TABLE = 'teams"; drop table users; --'  # no dot: the mapping says schema.table
EVIL_COLUMN = "x'); drop table raw.users; --\"; drop table raw.teams; --"
SECRET = "S3cret-Pa55word"


def test_crm_mapping_table_and_column_names_are_quoted(warehouse_db, conn, monkeypatch):
    """A source table and an `extra` column with SQL in their names load as data."""
    table = sql.Identifier("src", EVIL_TABLE)
    conn.execute("create schema src")
    conn.execute(sql.SQL("create table {} (id text, name text, updated_at timestamptz, {} text)")
                 .format(table, sql.Identifier(EVIL_COLUMN)))  # fmt: skip
    conn.execute(sql.SQL("insert into {} values ('t1', 'Team One', now(), 'kept')").format(table))
    mapping = {"teams": TableMapping(entity="teams", table=f"src.{EVIL_TABLE}",
                                     extra=(EVIL_COLUMN,))}  # fmt: skip
    monkeypatch.setitem(
        extract.SOURCES, "hostile", lambda w: CrmDatabaseSource("hostile", w, mapping)
    )

    extract.run_entity("hostile", "teams", warehouse_db)

    rows = conn.execute("select id, name, _extra from raw.teams where _source = 'hostile'")
    assert rows.fetchall() == [("t1", "Team One", {EVIL_COLUMN: "kept"})]
    assert conn.execute("select to_regclass('raw.users')").fetchone()[0] is not None


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(
        [SALESPERF, "-v", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def _with_password(w: wh.Warehouse, port: int | None = None) -> str:
    host = f"{w.host}:{port or w.port}"
    return f"postgresql://{w.user}:{SECRET}@{host}/{w.dbname}"


def test_passwords_never_reach_output_or_logs(warehouse_db, monkeypatch):
    """The warehouse password given as WAREHOUSE_URL or as the Airflow connection
    (the server trusts loopback, so a password is accepted and ignored) appears in no output
    of the CLI at debug level: not on success, not when the server is unreachable."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SALESPERF_PG_", "WAREHOUSE"))}
    base.pop("AIRFLOW_CONN_WAREHOUSE", None)
    base["DEMO_CRM_URL"] = warehouse_db.url
    ok_url = _with_password(warehouse_db)
    down_url = _with_password(warehouse_db, port=free_port())
    runs = {
        "status": _run(["warehouse", "status"], {**base, "WAREHOUSE_URL": ok_url}),
        "migrate": _run(["warehouse", "migrate"], {**base, "WAREHOUSE_URL": ok_url}),
        "unreachable": _run(["extract"], {**base, "WAREHOUSE_URL": down_url}),
        "airflow conn unreachable": _run(
            ["extract"],
            {**base, "AIRFLOW_CONN_WAREHOUSE": down_url.replace("postgresql", "postgres")},
        ),
        "missing crm": _run(
            ["extract"], {**base, "WAREHOUSE_URL": ok_url, "DEMO_CRM_URL": down_url}
        ),  # fmt: skip
    }
    assert runs["status"].startswith("exit 0") and runs["migrate"].startswith("exit 0")
    assert "cannot connect to the warehouse" in runs["unreachable"]
    assert "cannot connect to the warehouse" in runs["airflow conn unreachable"]
    assert runs["missing crm"].startswith("exit 2")  # one-line error naming the host
    for name, out in runs.items():
        assert SECRET not in out, f"{name}: password in output:\n{out}"


@pytest.mark.slow
def test_dbt_output_and_errors_hold_no_password(warehouse_db, tmp_path):
    """dbt gets the password through the environment; `dbt debug`, which prints the
    connection it uses, shows host, user and database, never the password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALESPERF_PG_", "WAREHOUSE"))}
    env["WAREHOUSE_URL"] = _with_password(warehouse_db)
    out = _run(["dbt", "debug", "--log-path", str(tmp_path)], env)
    assert out.startswith("exit 0"), out[-2000:]
    assert re.search(r"user: +\w+", out) and SECRET not in out
    logs = tmp_path / "dbt.log"
    assert logs.exists() and SECRET not in logs.read_text(errors="replace")


def test_code_never_logs_or_prints_a_url_with_credentials():
    """Static guard: code that logs, prints or raises uses ``describe()`` (host:port/db), never
    ``.url`` or a connection URI; the one intended exception is `salesperf warehouse url`."""
    offenders = []
    pattern = re.compile(
        r"(log\.\w+|print|Error)\(.*\b(url|uri|sqlalchemy_url\(\)|airflow_uri\(\))\b"
    )
    for path in sorted((REPO / "plugins" / "salesperf").rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if pattern.search(line) and "describe()" not in line:
                offenders.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert offenders == ["plugins/salesperf/commands/warehouse.py: print(wh.url)"]


@pytest.mark.slow
def test_dbt_vars_and_seed_headers_with_sql_are_quoted(warehouse_db, conn, tmp_path):
    """A bi_role var, a crm_source var and a seed header holding SQL are names and text:
    the role is created and granted under its odd name, the seed column keeps it, and
    nothing is dropped. Runs on a copy of the dbt project with one extra seed."""
    import shutil
    import uuid

    project = tmp_path / "dbt_project"
    root = REPO / "dbt_project"

    def build_output(folder, names):  # only the project's own target*/logs* folders
        if Path(folder) != root:
            return []
        return [n for n in names if n.startswith(("target", "logs", "dbt_packages"))]

    shutil.copytree(root, project, ignore=build_output)
    evil_header = 'x"; drop schema raw cascade; --'
    (project / "seeds" / "evil_seed.csv").write_text(
        'id,"{}"\n1,kept\n'.format(evil_header.replace('"', '""')), encoding="utf-8"
    )
    role = f'bi_{uuid.uuid4().hex[:6]}"; drop schema raw cascade; --'
    source = "x' or true; drop schema raw cascade; --"
    vars_yaml = json.dumps({"bi_role": role, "crm_source": source})
    env = {**os.environ, **warehouse_db.env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(project),
             "--profiles-dir", str(project), "--select", "evil_seed", "+dim_date",
             "--exclude-resource-type", "test", "unit_test", "--vars", vars_yaml],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert conn.execute("select to_regnamespace('raw')").fetchone()[0] is not None
        assert conn.execute(
            sql.SQL("select {} from config.evil_seed").format(sql.Identifier(evil_header))
        ).fetchall() == [("kept",)]
        assert conn.execute(
            "select has_table_privilege(%s, 'marts.dim_date', 'select')", (role,)
        ).fetchone() == (True,)
    finally:
        # the role is cluster-wide: drop it again
        if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
