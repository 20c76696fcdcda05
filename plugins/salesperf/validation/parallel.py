"""Run a checkpoint's validation definitions in forked worker processes.

GX runs a checkpoint's definitions one after another, and each spends about as long in
Python (building metric graphs, copying configurations, rendering results) as it waits for
PostgreSQL: on the medium bench a whole-table landing run waited 4.3 s in ``checkpoint.run``
with one core idle. Here the definitions are shared among ``SALESPERF_DQ_WORKERS`` forked
processes (default: one per core, at most 4), the longest first, each process validating on
its own connections. Every worker runs the definition exactly as the checkpoint would
(same checkpoint id, result format and run id) and GX stores its result, so the results, the
stored files and Data Docs are those of ``checkpoint.run``; they come back in the
checkpoint's order.

The checkpoint's actions are not run: the project's checkpoints have none (Data Docs are
built once per run by :func:`.gx_context.build_docs`), and :func:`run` refuses one that has.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from collections.abc import Mapping

from salesperf import workers as workers_mod

log = logging.getLogger(__name__)

WORKERS_VARIABLE = "SALESPERF_DQ_WORKERS"

# What the forked workers inherit: set by run() right before the pool forks them.
_job: dict = {}


def worker_count() -> int:
    return workers_mod.count(WORKERS_VARIABLE)


def run(checkpoint, run_id, *, costs: Mapping[str, float] | None = None, workers=None) -> dict:
    """Validate every definition of ``checkpoint`` under ``run_id``; returns
    ``{suite name: (ValidationResultIdentifier, ExpectationSuiteValidationResult)}`` in the
    checkpoint's order. ``costs`` (definition name -> any measure of the work, e.g. rows
    times expectations) decides which definitions start first."""
    definitions = list(checkpoint.validation_definitions)
    if checkpoint.actions:
        raise ValueError(f"checkpoint {checkpoint.name} has actions; run it with checkpoint.run")
    diagnostics = checkpoint.is_fresh()
    if not diagnostics.success:
        diagnostics.raise_for_error()
    workers = min(worker_count() if workers is None else workers, len(definitions))
    if workers <= 1 or not workers_mod.can_fork():
        results = [_validate_definition(checkpoint, d, run_id) for d in definitions]
    else:
        results = _in_workers(checkpoint, definitions, run_id, costs or {}, workers)
    out = {}
    for definition, result in zip(definitions, results, strict=True):
        out[definition.suite.name] = (_result_key(definition, run_id, result), result)
    return out


def _in_workers(checkpoint, definitions, run_id, costs, workers) -> list:
    order = sorted(range(len(definitions)), key=lambda i: -costs.get(definitions[i].name, 0))
    log.info(
        "%s: %d validation definitions in %d worker processes",
        checkpoint.name,
        len(definitions),
        workers,
    )
    _job.update(checkpoint=checkpoint, definitions=definitions, run_id=run_id)
    try:
        with workers_mod.frozen_heap():
            executor = concurrent.futures.ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
            )
            try:
                with workers_mod.sigterm_held():  # the workers are forked by the submits
                    futures = {i: executor.submit(_validate_index, i) for i in order}
                results = [futures[i].result() for i in range(len(definitions))]
            except BaseException:
                executor.shutdown(wait=True, cancel_futures=True)
                raise
            executor.shutdown(wait=True)
    except concurrent.futures.process.BrokenProcessPool as exc:
        raise RuntimeError(
            f"{checkpoint.name}: a validation worker process died ({exc}); "
            f"set {WORKERS_VARIABLE}=1 to validate in one process"
        ) from exc
    finally:
        _job.clear()
    return results


def _start_worker() -> None:
    """In a fresh worker: default SIGTERM (see :func:`salesperf.workers.reset_signals`) and
    none of the parent's pooled database connections (a socket used by two processes
    mixes their conversations); ``close=False`` leaves them to the parent."""
    workers_mod.reset_signals()
    for engine in _engines():
        engine.dispose(close=False)


def _engines() -> list:
    found = {}
    for definition in _job["definitions"]:
        datasource = definition.data.data_asset.datasource
        for engine in (
            getattr(datasource, "_engine", None),
            getattr(getattr(datasource, "_execution_engine", None), "engine", None),
        ):
            if hasattr(engine, "dispose"):
                found[id(engine)] = engine
    return list(found.values())


def _validate_index(index: int):
    definition = _job["definitions"][index]
    try:
        return _validate_definition(_job["checkpoint"], definition, _job["run_id"])
    finally:
        # this worker's own connections, closed cleanly rather than cut by its exit
        for engine in _engines():
            engine.dispose()


def _validate_definition(checkpoint, definition, run_id):
    # what Checkpoint._run_validation_definitions does for each definition (run() itself
    # records the checkpoint id in the result's meta)
    return definition.run(
        checkpoint_id=checkpoint.id, result_format=checkpoint.result_format, run_id=run_id
    )


def _result_key(definition, run_id, result):
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
        run_id=run_id,
        batch_identifier=result.batch_id,
    )
