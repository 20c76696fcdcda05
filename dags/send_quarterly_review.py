"""Quarterly review of the appraisal system (持续优化) to management.

Runs at 09:00 company time on the first day of each quarter and reviews the previous
quarter: grade distribution, share at target, review metrics and recommendations. Company
level only (no individual rep's figures); validated marts; sent once through the outbox.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config
from salesperf.dag_defaults import default_args

KIND = "quarterly"


@dag(
    schedule="0 9 1 1,4,7,10 *",
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports", "email"],
    default_args=default_args(retry_delay=timedelta(minutes=5)),
    doc_md=__doc__,
)
def send_quarterly_review():
    @task
    def enqueue(logical_date=None) -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue(KIND, tasks.previous_quarter(logical_date))

    @task
    def deliver(queued: dict) -> dict:
        from salesperf.reports import tasks

        return tasks.deliver(KIND)

    deliver(enqueue())


send_quarterly_review_dag = send_quarterly_review()

if __name__ == "__main__":
    send_quarterly_review_dag.test()
