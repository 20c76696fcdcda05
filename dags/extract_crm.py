"""Extract the CRM database(s) into the landing tables, incrementally.

Hourly by default (``SALESPERF_EXTRACT_SCHEDULE`` overrides, any cron or preset). The first
task applies the landing migrations and lists every source × entity; one mapped task per
pair then extracts it (watermark + look-back, soft and hard deletes, COPY + merge, all in one
transaction per entity; see ``salesperf.extract``). Rerunning a run, or a retry after a
failure, is safe: an unchanged row is never rewritten and the watermark only moves with the
data it covers. The last task publishes the landing Asset, which triggers the marts.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config, dag_defaults
from salesperf.assets import LANDING


@dag(
    schedule=os.environ.get("SALESPERF_EXTRACT_SCHEDULE", "@hourly"),
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,
    tags=["sales", "extract", "crm"],
    default_args=dag_defaults.default_args(retry_delay=timedelta(minutes=2)),
    doc_md=__doc__,
)
def extract_crm():
    @task
    def plan_extracts() -> list[dict]:
        """Migrate the landing schema; return the source × entity pairs to extract."""
        from salesperf import extract, warehouse
        from salesperf.landing.migrations import migrate

        with warehouse.connect() as conn:
            migrate(conn)
        return extract.plan()

    @task(
        map_index_template="{{ task.op_kwargs['pair']['source'] }}.{{ task.op_kwargs['pair']['entity'] }}"
    )
    def extract_entity(pair: dict) -> dict:
        """Extract one entity of one source; returns its row counts."""
        from salesperf import extract

        counts = extract.run_entity(pair["source"], pair["entity"])
        return {**pair, **counts}

    @task(outlets=[LANDING])
    def publish_landing(results: list[dict]) -> dict:
        """Every entity landed: announce new landing data (triggers the marts). When no row
        changed the task is skipped, so no Asset event fires and no rebuild follows."""
        from airflow.sdk.exceptions import AirflowSkipException

        from salesperf.extract import landing_changes

        total = landing_changes(results)
        print(f"landing changes from {len(results)} extracts: {total}")
        if not any(total.values()):
            raise AirflowSkipException("no landing row changed; the marts are current")
        return total

    publish_landing(extract_entity.expand(pair=plan_extracts()))


extract_crm_dag = extract_crm()

if __name__ == "__main__":
    extract_crm_dag.test()
