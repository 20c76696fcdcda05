"""Import CRM export files (CSV/XLSX) dropped into ``<drop dir>/<mapping name>/``.

Every 15 minutes (``SALESPERF_IMPORT_SCHEDULE`` overrides) the drop folder is polled; each
sub-folder with waiting files is imported by one mapped task with the mapping of the same
name (``<drop dir>/<name>.yaml``, else the shipped mapping, e.g. ``maven_crm``). Each
import task publishes the landing Asset. Bad rows go to ``ops.quarantine``; a file with a
missing required column loads nothing, stays in place, and fails the run's last task with a
one-line error (after the other files were loaded).
The drop dir is ``SALESPERF_DROP_DIR`` (default ``.local/drop``).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from salesperf import config, dag_defaults
from salesperf.assets import LANDING


@dag(
    schedule=os.environ.get("SALESPERF_IMPORT_SCHEDULE", "*/15 * * * *"),
    start_date=pendulum.datetime(2026, 1, 1, tz=config.company_timezone()),
    catchup=False,
    max_active_runs=1,  # two polls never race for the same file
    tags=["sales", "extract", "files"],
    default_args=dag_defaults.default_args(retry_delay=timedelta(minutes=1)),
    doc_md=__doc__,
)
def import_crm_files():
    @task
    def folders_with_files() -> list[str]:
        """Drop sub-folders that hold files to import (zero -> nothing runs)."""
        from salesperf.sources.files import pending_drop_folders

        folders = pending_drop_folders()
        print(f"drop dir {config.DROP_DIR}: {folders or 'nothing waiting'}")
        return folders

    @task(outlets=[LANDING], map_index_template="{{ task.op_kwargs['name'] }}")
    def import_folder(name: str) -> dict:
        """Import one folder; every file is its own transaction and batch."""
        from salesperf.sources.files import import_drop_folder

        report = import_drop_folder(name, strict=False)
        print(report.summary())
        return {
            "source": report.source,
            "loaded": report.loaded_by_entity,
            "quarantined": report.quarantined,
            "failed": [f.message for f in report.errors],
        }

    @task(trigger_rule="all_done")
    def check_failed_files(results: list[dict]) -> None:
        """Files that could not be imported at all fail the run visibly (after the good ones
        were loaded and announced); they stay in the drop folder to be fixed."""
        failed = [msg for r in results if r for msg in r["failed"]]
        if failed:
            raise RuntimeError(f"{len(failed)} file(s) not imported: " + " | ".join(failed))

    check_failed_files(import_folder.expand(name=folders_with_files()))


import_crm_files_dag = import_crm_files()

if __name__ == "__main__":
    import_crm_files_dag.test()
