"""A backfill of three past months of the monthly reports, run twice: no email twice.

The DAG's own task functions (``salesperf.reports.tasks.enqueue``/``deliver``, what
``send_monthly_appraisals`` runs) are called for three past logical dates, then the whole
backfill again, delivering through a real SMTP server on loopback. Marts are the hand-made
ones of ``tests/test_reports.py`` with appraisal rows for three months.
"""

from __future__ import annotations

from collections import Counter

import pendulum
from test_reports import _create_marts

from salesperf import config
from salesperf.mailcatcher import MailCatcher
from salesperf.reports import tasks

KINDS = ("monthly_appraisal", "team_report")


def _three_months_of_marts(conn) -> None:
    _create_marts(conn)  # September 2026
    for back in (1, 2):
        for table, col, where in (
            ("fct_appraisal_scores", "period_start", "period_type = 'month'"),
            ("fct_appraisal_summary", "period_start", "period_type = 'month'"),
            ("fct_funnel_monthly", "month_start", "true"),
        ):
            cols = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'marts'"
                " and table_name = %s order by ordinal_position", (table,))]  # fmt: skip
            select = ", ".join(
                f"({c} - make_interval(months => {back}))::date" if c == col else c for c in cols
            )
            conn.execute(
                f"insert into marts.{table} select {select} from marts.{table}"  # noqa: S608
                f" where {col} = '2026-09-01' and {where}"
            )
    conn.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful,"
        " failed) values ('ok', 'marts.dim_reps', 'marts', true, 1, 1, 0)"
    )


def _backfill() -> dict[str, list]:
    """The DAG's tasks for the runs of Aug 1, Sep 1 and Oct 1 (09:00 company time)."""
    done: dict[str, list] = {"queued": [], "sent": []}
    for month in (8, 9, 10):
        logical = pendulum.datetime(2026, month, 1, 9, tz=config.company_timezone())
        for kind in KINDS:
            done["queued"].append(tasks.enqueue(kind, tasks.previous_month(logical))["queued"])
            done["sent"].append(tasks.deliver(kind)["sent"])
    return done


def test_monthly_backfill_of_three_months_twice_sends_each_email_once(conn, tmp_path, monkeypatch):
    _three_months_of_marts(conn)
    with MailCatcher(tmp_path / "mail") as mc:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            f"smtp://127.0.0.1:{mc.port}?disable_tls=true&disable_ssl=true",
        )
        first = _backfill()
        second = _backfill()
        caught = Counter(str(m["Message-ID"]) for m in mc.messages())

    rows = conn.execute("select kind, period, message_id, status from ops.email_outbox").fetchall()
    per_period = Counter((kind, period) for kind, period, _m, _s in rows)
    # every month of the backfill produced its appraisals and team reports
    assert {p for _k, p in per_period} == {"2026-07", "2026-08", "2026-09"}
    assert all(per_period[(k, p)] > 0 for k in KINDS for p in ("2026-07", "2026-08", "2026-09"))
    assert sum(first["queued"]) == sum(first["sent"]) == len(rows)
    assert sum(second["queued"]) == sum(second["sent"]) == 0
    assert {s for *_x, s in rows} == {"sent"}
    assert set(caught) == {m for _k, _p, m, _s in rows}
    assert max(caught.values()) == 1
