"""Build the sales marts with dbt whenever the landing data changes.

source freshness -> landing validation (GX) -> dbt (Cosmos task group in watcher mode: one
`dbt build` task, then a task per seed, snapshot, model and model's tests reporting that
node's result) -> mart validation (GX) -> publish the marts Asset. Mart
validation runs before the publish step, so report DAGs scheduled on MARTS only ever read
validated marts; a failed validation fails the run and sends one alert to the data team.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from salesperf import dag_defaults
from salesperf.assets import LANDING, MARTS
from salesperf.config import company_timezone


@dag(
    schedule=[LANDING],
    start_date=pendulum.datetime(2026, 1, 1, tz=company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "dbt", "marts"],
    default_args=dag_defaults.default_args(retry_delay=pendulum.duration(minutes=1)),
    doc_md=__doc__,
)
def transform_sales_marts():
    # Imported here, not at module top: only parsing this DAG pays for Cosmos.
    from cosmos import DbtTaskGroup

    from salesperf import dbt as sp_dbt

    @task
    def source_freshness() -> str:
        """dbt source freshness: warns on stale landing data, fails past the error threshold."""
        result = sp_dbt.run_dbt(["source", "freshness"], check=False)
        print(result.tail(40))
        if not result.success:
            raise RuntimeError(f"landing data is stale or unreadable:\n{result.tail(15)}")
        return "fresh"

    build = DbtTaskGroup(
        group_id="dbt",
        project_config=sp_dbt.cosmos_project_config(),
        profile_config=sp_dbt.cosmos_profile_config(),
        execution_config=sp_dbt.cosmos_execution_config(),
        render_config=sp_dbt.cosmos_render_config(),
        operator_args={"install_deps": False, "env": sp_dbt.dbt_session_env(), "append_env": True},
    )

    @task
    def validate_landing() -> str:
        """GX landing suites; a failure alerts the data team once and stops this run."""
        from airflow.sdk import get_current_context

        from salesperf.validation.tasks import validate

        return validate("landing", get_current_context()["run_id"])

    @task
    def validate_marts() -> str:
        """GX mart suites; a failure alerts the data team once and MARTS is not published."""
        from airflow.sdk import get_current_context

        from salesperf.validation.tasks import validate

        return validate("marts", get_current_context()["run_id"])

    @task(outlets=[MARTS])
    def publish_marts() -> dict[str, int]:
        """Marts are rebuilt (and validated): emit MARTS with the row counts."""
        return sp_dbt.mart_row_counts()

    source_freshness() >> validate_landing() >> build >> validate_marts() >> publish_marts()
    sp_dbt.run_watcher_producer_first(build)


transform_sales_marts_dag = transform_sales_marts()

if __name__ == "__main__":
    transform_sales_marts_dag.test()
