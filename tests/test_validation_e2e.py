"""End to end through Airflow: a landing fault makes `airflow dags test transform_sales_marts`
fail at the landing validation, so dbt does not run, the marts Asset is not published (no
report DAG can run) and exactly one data-quality alert reaches a real SMTP server."""

from __future__ import annotations

import os

import psycopg
import pytest
from validation_support import GOOD_LANDING

from salesperf import airflow_env
from salesperf import warehouse as wh
from salesperf.mailcatcher import MailCatcher

pytestmark = [pytest.mark.slow, pytest.mark.airflow]


def test_failed_landing_validation_blocks_marts_and_alerts_once(make_db, server, tmp_path):
    db = make_db("e2e_validation")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(GOOD_LANDING)
        conn.execute("update raw.opportunities set amount = -500 where id = 'o2'")
    meta = db.with_database(airflow_env.metadata_db_name(db))
    try:
        env = airflow_env.environment(db)
        env["AIRFLOW_HOME"] = str(tmp_path / "airflow_home")
        airflow_env.migrate_metadata(env)
        with MailCatcher(tmp_path / "mail") as mc:
            env.update(
                {
                    "AIRFLOW_CONN_SMTP_DEFAULT": f"smtp://127.0.0.1:{mc.port}?disable_tls=true"
                    "&disable_ssl=true&from_email=airflow%40x.test",
                    "SALESPERF_DATA_TEAM_EMAILS": "data-team@x.test",
                    "SALESPERF_GX_ROOT": str(tmp_path / "gx"),
                    "SALESPERF_DATA_DOCS_DIR": str(tmp_path / "docs"),
                }
            )
            proc = airflow_env.run_airflow(
                ["dags", "test", "transform_sales_marts"],
                env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            messages = mc.messages()
        log = (proc.stdout + proc.stderr)[-4000:]

        with psycopg.connect(meta.url) as m:
            states = dict(
                m.execute(
                    "select task_id, state from task_instance where dag_id = 'transform_sales_marts'"
                ).fetchall()
            )
            marts_events = m.execute(
                "select count(*) from asset_event e join asset a on a.id = e.asset_id"
                " where a.name = 'salesperf_marts'"
            ).fetchone()[0]
    finally:
        wh.drop_database(server, meta.dbname)

    assert states.get("validate_landing") == "failed", (states, log)
    assert states.get("publish_marts") == "upstream_failed", states
    assert states.get("validate_marts") == "upstream_failed", states
    assert marts_events == 0
    [alert] = messages
    assert alert["X-Envelope-To"] == "data-team@x.test"
    assert "landing.opportunities" in alert["Subject"]
    assert "amount: column values to be between" in alert.get_body(("plain",)).get_content()
    with wh.connect(db) as conn:
        runs = conn.execute(
            "select layer, suite, success from ops.validation_runs where not success"
        ).fetchall()
        outbox = conn.execute("select kind, status from ops.email_outbox").fetchall()
    assert runs == [("landing", "landing.opportunities", False)]
    assert outbox == [("dq_alert", "sent")]
    assert os.path.isdir(tmp_path / "gx" / "gx" / "expectations" / "landing")
