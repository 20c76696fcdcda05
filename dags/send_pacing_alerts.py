"""Pacing alerts (目标进度提醒): a rep or team that falls behind its month-to-date pace.

Scheduled on the marts Asset (rebuilt and validated). Reads the latest as-of date of
``fct_target_pacing_daily``; a rep below the company's at-risk threshold gets an alert (cc
manager), a team's manager gets the team's. At most one alert per recipient, period, level
and degree of lateness ("behind", "far behind"): the outbox key holds all of them.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config
from salesperf.assets import MARTS
from salesperf.dag_defaults import default_args

KIND = "pacing"


@dag(
    schedule=[MARTS],
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports", "email"],
    default_args=default_args(retry_delay=timedelta(minutes=2)),
    doc_md=__doc__,
)
def send_pacing_alerts():
    @task
    def enqueue() -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue(KIND, None)

    @task
    def deliver(queued: dict) -> dict:
        from salesperf.reports import tasks

        return tasks.deliver(KIND)

    deliver(enqueue())


send_pacing_alerts_dag = send_pacing_alerts()

if __name__ == "__main__":
    send_pacing_alerts_dag.test()
