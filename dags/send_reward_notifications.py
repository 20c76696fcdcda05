"""Reward notifications (激励机制): tell a rep (cc their manager) as soon as a reward appears.

Scheduled on the marts Asset, which is only emitted after the marts were rebuilt *and*
validated. Each reward has a stable id, and the outbox key includes it, so every reward is
announced exactly once however often the marts are rebuilt (recent rewards: last 3 months).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config
from salesperf.assets import MARTS
from salesperf.dag_defaults import default_args

KIND = "reward"


@dag(
    schedule=[MARTS],
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "reports", "email"],
    default_args=default_args(retry_delay=timedelta(minutes=2)),
    doc_md=__doc__,
)
def send_reward_notifications():
    @task
    def enqueue() -> dict:
        from salesperf.reports import tasks

        return tasks.enqueue(KIND, None)

    @task
    def deliver(queued: dict) -> dict:
        from salesperf.reports import tasks

        return tasks.deliver(KIND)

    deliver(enqueue())


send_reward_notifications_dag = send_reward_notifications()

if __name__ == "__main__":
    send_reward_notifications_dag.test()
