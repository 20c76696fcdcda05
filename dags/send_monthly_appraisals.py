"""Monthly appraisal to every rep and team report (with XLSX) to every manager.

Runs at 09:00 company time on the 1st of each month and reports the previous month. Only
validated marts are used (the latest marts validation must have passed). Messages go through
the outbox (``ops.email_outbox``), so a rerun or a backfill of a past month sends nothing
twice; the deliver tasks retry while SMTP is down and fail visibly if it stays down.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config
from salesperf.dag_defaults import default_args


@dag(
    schedule="0 9 1 * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports", "email"],
    default_args=default_args(retry_delay=timedelta(minutes=5)),
    doc_md=__doc__,
)
def send_monthly_appraisals():
    @task
    def enqueue_appraisals(logical_date=None) -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue("monthly_appraisal", tasks.previous_month(logical_date))

    @task
    def enqueue_team_reports(logical_date=None) -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue("team_report", tasks.previous_month(logical_date))

    @task
    def deliver(queued: dict) -> dict:
        from salesperf.reports import tasks

        return tasks.deliver(queued["kind"])

    deliver.override(task_id="deliver_appraisals")(enqueue_appraisals())
    deliver.override(task_id="deliver_team_reports")(enqueue_team_reports())


send_monthly_appraisals_dag = send_monthly_appraisals()

if __name__ == "__main__":
    send_monthly_appraisals_dag.test()
