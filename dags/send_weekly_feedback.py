"""Weekly feedback digest to every active rep: activities, pipeline moves, pacing.

Runs Mondays at 09:00 company time and covers the previous Monday-to-Sunday week, from
validated marts, through the outbox (never twice for the same rep and week).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config
from salesperf.dag_defaults import default_args

KIND = "weekly"


@dag(
    schedule="0 9 * * 1",
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports", "email"],
    default_args=default_args(retry_delay=timedelta(minutes=5)),
    doc_md=__doc__,
)
def send_weekly_feedback():
    @task
    def enqueue(logical_date=None) -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue(KIND, tasks.previous_week(logical_date))

    @task
    def deliver(queued: dict) -> dict:
        from salesperf.reports import tasks

        return tasks.deliver(KIND)

    deliver(enqueue())


send_weekly_feedback_dag = send_weekly_feedback()

if __name__ == "__main__":
    send_weekly_feedback_dag.test()
