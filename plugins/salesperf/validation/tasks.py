"""The validation step as an Airflow task body (kept out of the DAG file, which stays thin).

``validate(layer, dag_run_id)`` runs the layer's suites with the run id
``<dag run id>:<layer>``; on failure it sends the data-quality alert (idempotent per run id,
so a retried or re-run task never mails twice) and fails the task without retrying, since
bad data does not heal in a minute. Errors that are not data failures (warehouse down)
propagate as they are and get the task's normal retries.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def validate(layer: str, dag_run_id: str) -> str:
    from salesperf.validation import run_layer

    result = run_layer(layer, run_id=f"{dag_run_id}:{layer}")
    for s in result.suites:
        log.info(
            "%s %s: %s/%s expectations",
            "ok  " if s.success else "FAIL",
            s.suite,
            s.successful,
            s.evaluated,
        )
    if result.data_docs_index:
        log.info("Data Docs: %s", result.data_docs_index)
    if result.success:
        return result.summary()
    from salesperf.validation.alert import send_alert

    try:
        log.warning("%s", send_alert(result))
    except Exception as exc:  # noqa: BLE001 - the failed validation is the news; keep it
        log.error("data-quality alert not sent (it stays in the outbox): %s", exc)
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(result.summary())
