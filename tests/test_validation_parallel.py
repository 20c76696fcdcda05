"""Validation suites shared among forked worker processes (salesperf.validation.parallel),
against a real PostgreSQL: the same results as one process, stored and rendered alike, the
parent's connections untouched, a dead worker reported, the setting checked."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from test_validation import LANDING_FAULTS
from validation_support import landing_database

from salesperf.validation import gx_context, parallel, run_layer


@pytest.fixture(scope="module")
def db(server):
    """Good landing rows with every landing fault of test_validation injected."""
    faults = [fault for fault, *_ in LANDING_FAULTS]
    with landing_database(server, "sp_valpar", *faults) as db:
        yield db


def _outcome(result) -> dict:
    """Everything a run reports per suite, minus times and links."""
    return {
        s.suite: (
            s.success,
            s.evaluated,
            s.successful,
            s.failed,
            sorted(
                (f["rule"], repr(f.get("observed_value")), repr(f.get("sample_rows")))
                for f in s.failures
            ),
        )
        for s in result.suites
    }


def _run(db, tmp_path: Path, label: str, workers: str, monkeypatch):
    monkeypatch.setenv("SALESPERF_DQ_WORKERS", workers)
    docs = tmp_path / f"docs-{label}"
    result = run_layer(
        "landing",
        warehouse=db,
        gx_root=tmp_path / f"gx-{label}",
        docs_dir=docs,
        full=True,
    )
    return result, docs


def test_workers_find_what_one_process_finds_and_store_every_result(db, tmp_path, monkeypatch):
    one, _ = _run(db, tmp_path, "one", "1", monkeypatch)
    two, docs = _run(db, tmp_path, "two", "2", monkeypatch)

    assert _outcome(two) == _outcome(one)
    failed = {s.suite for s in two.failed_suites}
    assert failed == {suite for _, suite, _, _ in LANDING_FAULTS}
    assert len(two.suites) > 2  # more definitions than workers
    # every suite's result was stored by its worker and rendered into Data Docs
    for suite in two.suites:
        assert suite.data_docs, suite.suite
        page = Path(suite.data_docs.removeprefix("file://"))
        assert page.is_file() and page.is_relative_to(docs), page
        assert two.run_id in str(page)


def test_the_parents_pooled_connections_survive_the_workers(db, tmp_path):
    """A worker gets none of the parent's pooled connections: had it used (and closed) one,
    the parent's next query on it would fail."""
    import sqlalchemy as sa
    from great_expectations.core.run_identifier import RunIdentifier

    # three landing suites on the landing tables themselves (their views exist only in a run)
    present = [
        dataclasses.replace(spec, batch_relation=spec.relation, batch_view_sql=None)
        for spec in gx_context.registry().suites("landing")[:3]
    ]
    context = gx_context.open_context(db.url, tmp_path / "gx")
    checkpoint = gx_context.sync_layer(context, "landing", present)
    datasource = checkpoint.validation_definitions[0].data.data_asset.datasource
    engine = datasource.get_execution_engine().engine
    with engine.connect() as c:  # now pooled in the parent
        parent_pid = c.execute(sa.text("select pg_backend_pid()")).scalar()

    results = parallel.run(checkpoint, RunIdentifier(run_name="pooled"), workers=2)

    assert set(results) == {d.suite.name for d in checkpoint.validation_definitions}
    with engine.connect() as c:
        assert c.execute(sa.text("select pg_backend_pid()")).scalar() == parent_pid
    engine.dispose()


def test_a_worker_that_dies_is_reported_not_waited_for(db, tmp_path, monkeypatch):
    def die(*args, **kwargs):
        os._exit(3)

    monkeypatch.setattr(parallel, "_validate_definition", die)
    with pytest.raises(RuntimeError, match="worker process died.*SALESPERF_DQ_WORKERS=1"):
        _run(db, tmp_path, "dies", "2", monkeypatch)


@pytest.mark.parametrize("raw", ["0", "two", "-1"])
def test_the_workers_setting_is_checked(monkeypatch, raw):
    monkeypatch.setenv("SALESPERF_DQ_WORKERS", raw)
    with pytest.raises(ValueError, match="SALESPERF_DQ_WORKERS"):
        parallel.worker_count()
