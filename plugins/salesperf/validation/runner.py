"""Run the suites of a layer against the warehouse and record every suite's result.

``run_layer("landing")`` / ``run_layer("marts")``: builds the suites from code into the GX
file context, runs the layer's checkpoint (SQL pushdown: each expectation is a query in
PostgreSQL; only aggregates and a few sample rows come back; its suites shared among
worker processes, see :mod:`.parallel`), updates Data Docs and writes
one ``ops.validation_runs`` row per suite. It never raises for bad data; the caller decides
(``result.raise_for_failure()``), so the results are recorded either way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from salesperf import warehouse as wh
from salesperf.landing.entities import ENTITIES
from salesperf.validation import batches, gx_context, history, parallel

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5  # bad rows kept per failed expectation
_SKIP_KWARGS = {"batch_id", "unexpected_rows_query", "result_format", "meta", "notes"}


class ValidationFailed(RuntimeError):
    """At least one suite failed; the message lists them in one line each."""

    def __init__(self, result: LayerResult):
        self.result = result
        super().__init__(result.summary())


@dataclass
class SuiteResult:
    suite: str
    relation: str
    success: bool
    evaluated: int
    successful: int
    failed: int
    started_at: dt.datetime
    finished_at: dt.datetime
    data_docs: str | None
    details: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[dict]:
        return self.details.get("failed_expectations", [])

    @property
    def mode(self) -> str | None:
        """'full' or 'incremental' for a landing suite (see :mod:`.batches`); None for marts."""
        return (self.details.get("incremental") or {}).get("mode")


@dataclass
class LayerResult:
    layer: str
    run_id: str
    suites: list[SuiteResult]
    data_docs_index: str | None = None

    @property
    def success(self) -> bool:
        return all(s.success for s in self.suites)

    @property
    def failed_suites(self) -> list[SuiteResult]:
        return [s for s in self.suites if not s.success]

    def summary(self) -> str:
        if self.success:
            return f"{self.layer}: all {len(self.suites)} suites passed (run {self.run_id})"
        parts = [
            f"{s.suite} ({s.details.get('error') or f'{s.failed} of {s.evaluated} expectations failed'})"
            for s in self.failed_suites
        ]
        return (
            f"{self.layer}: {len(parts)} of {len(self.suites)} suites failed (run {self.run_id}): "
            + "; ".join(parts)
        )

    def raise_for_failure(self) -> None:
        if not self.success:
            raise ValidationFailed(self)


def run_layer(
    layer: str,
    *,
    warehouse: wh.Warehouse | None = None,
    run_id: str | None = None,
    gx_root: Path | None = None,
    docs_dir: Path | None = None,
    specs=None,
    data_docs: bool = True,
    full: bool | None = None,
) -> LayerResult:
    """Validate one layer ('landing' or 'marts'); see the module docstring.

    Landing suites read only the rows changed since their last successful run unless
    ``full`` (or ``SALESPERF_DQ_FULL=1``) asks for whole tables (see :mod:`.batches`).
    ``specs`` restricts the run to some suites and ``data_docs=False`` skips rendering
    Data Docs (both for tests)."""
    warehouse = warehouse or wh.resolve()
    run_id = run_id or f"{layer}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    root = Path(gx_root or gx_context.default_root())
    full = batches.force_full() if full is None else full
    with wh.connect(warehouse, autocommit=True) as conn:
        conn.execute(f"set jit = off; set work_mem = '{gx_context.WORK_MEM}'")
        # before anything is read: the next run re-checks rows written from here on
        next_since_xid = batches.oldest_xid_writing_here(conn)
        started = dt.datetime.now(dt.UTC)
        plans: dict[str, batches.Plan] = {}
        fingerprints: dict[str, str] = {}
        with gx_context.locked(root), _prepared_ahead(conn, warehouse, layer, specs, full) as ahead:
            specs = specs if specs is not None else gx_context.registry().suites(layer)
            missing = {s.name: s.relation for s in specs if not _exists(conn, s.relation)}
            present = [s for s in specs if s.name not in missing]
            with batches.landing_batches(conn, present):
                context = gx_context.open_context(warehouse.url, root, docs_dir)
                if data_docs:
                    gx_context.prune_results(root, docs_dir)
                by_name = {}
                if present:
                    checkpoint = gx_context.sync_layer(context, layer, present)
                    suites = {d.name: d.suite for d in checkpoint.validation_definitions}
                    fingerprints = {n: batches.fingerprint(s) for n, s in suites.items()}
                    plans = batches.prepare(
                        conn, present, suites, next_since_xid, full, ahead.take() if ahead else None
                    )
                    batches.record_row_counts(conn, plans)
                    if plans:
                        log.info("landing batches (mode, rows): %s", batches.describe(plans))
                    from great_expectations.core.run_identifier import RunIdentifier

                    run_identifier = RunIdentifier(run_name=run_id, run_time=started)
                    costs = _costs(conn, present, plans, suites)
                    by_name = parallel.run(checkpoint, run_identifier, costs=costs)
                    detail_format = gx_context.FAILURE_RESULT_FORMATS.get(layer)
                    for name, (identifier, validation) in list(by_name.items()):
                        if detail_format and not validation.success:
                            # the same run id: the stored result becomes the detailed one
                            detailed = context.validation_definitions.get(name).run(
                                result_format=detail_format,
                                run_id=run_identifier,
                            )
                            by_name[name] = (identifier, detailed)
                    if data_docs:
                        gx_context.build_docs(
                            context, [i for i, _ in by_name.values()], root, docs_dir
                        )
                finished = dt.datetime.now(dt.UTC)
                results = []
                for spec in specs:
                    if spec.name in missing:
                        results.append(_missing_result(spec, started, finished))
                        continue
                    identifier, validation = by_name[spec.name]
                    result = _suite_result(
                        context,
                        spec,
                        identifier,
                        validation,
                        started,
                        finished,
                        data_docs,
                    )
                    plan = plans.get(spec.name)
                    if plan is not None:
                        result.details["row_count"] = plan.live_rows
                        result.details["incremental"] = plan.details(
                            next_since_xid, fingerprints[spec.name]
                        )
                    _add_rule_samples(conn, spec, validation, result)
                    results.append(result)
                index = _docs_index(context) if data_docs else None
                _close_connections(context)
        for r in results:
            history.record(conn, run_id, layer, r)
    result = LayerResult(layer, run_id, results, index)
    log.info("%s", result.summary())
    return result


@contextlib.contextmanager
def _prepared_ahead(conn, warehouse, layer: str, specs, full: bool):
    """A landing run's whole-table preparation, started before its suites are built (see
    :class:`.batches.Ahead`); stopped and waited for on the way out, whatever happens."""
    if layer != "landing":
        yield None
        return
    if specs is None:
        entities = list(ENTITIES)
    else:
        names = [s.relation.split(".", 1)[1] for s in specs if s.batch_view_sql]
        entities = [n for n in names if n in ENTITIES]
    batches.ensure_tables(conn)
    ahead = batches.Ahead(warehouse, entities, full)
    try:
        yield ahead
    finally:
        ahead.stop()


def _costs(conn, specs, plans: dict, suites: dict) -> dict[str, float]:
    """Roughly how much work each suite is (rows it reads times its expectations), so the
    biggest start first when suites are shared among worker processes."""
    rows = {}
    for spec in specs:
        plan = plans.get(spec.name)
        if plan is not None:
            rows[spec.name] = plan.batch_rows if plan.mode == "incremental" else plan.live_rows
        else:
            rows[spec.name] = conn.execute(
                # a table not analyzed yet (-1) counts ~100 bytes a row
                "select case when reltuples >= 0 then reltuples"
                " else pg_relation_size(oid) / 100 end"
                " from pg_class where oid = to_regclass(%s)",
                (spec.batch_relation,),
            ).fetchone()[0]
    return {n: float(rows[n] or 0) * (len(suites[n].expectations) + 1) for n in rows}


def _close_connections(context) -> None:
    """Don't leave GX's pooled connections open in a long-lived worker (or in a database
    that is about to be dropped)."""
    import gc

    datasource = context.data_sources.get(gx_context.DATASOURCE)
    datasource.get_engine().dispose()
    engine = getattr(datasource.get_execution_engine(), "engine", None)
    if engine is not None:
        engine.dispose()
    gc.collect()


def _missing_result(spec, started, finished) -> SuiteResult:
    """A listed table that does not exist fails its suite, loudly (never a silent pass)."""
    error = f"table {spec.relation} does not exist (has dbt built it?)"
    return SuiteResult(
        suite=spec.name,
        relation=spec.relation,
        success=False,
        evaluated=1,
        successful=0,
        failed=1,
        started_at=started,
        finished_at=finished,
        data_docs=None,
        details={"relation": spec.relation, "error": error, "failed_expectations": []},
    )


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _suite_result(
    context, spec, identifier, validation, started, finished, data_docs=True
) -> SuiteResult:
    stats = validation.statistics
    failures = [_failure(e) for e in validation.results if not e.success]
    details: dict = {"relation": spec.relation, "failed_expectations": failures}
    success = bool(validation.success)
    return SuiteResult(
        suite=spec.name,
        relation=spec.relation,
        success=success,
        evaluated=int(stats.get("evaluated_expectations") or 0),
        successful=int(stats.get("successful_expectations") or 0),
        failed=int(stats.get("unsuccessful_expectations") or 0),
        started_at=started,
        finished_at=finished,
        data_docs=_docs_page(context, identifier) if data_docs else None,
        details=details,
    )


def _add_rule_samples(conn, spec, validation, result: SuiteResult) -> None:
    """A few offending rows for each failed SQL rule. GX returns rows only in COMPLETE
    format, which would also pull every unexpected value of column expectations; so the
    rule's own query is run again with a LIMIT (substituting ``{batch}`` as GX does)."""
    failed = [e for e in validation.results if not e.success]
    for e, failure in zip(failed, result.failures, strict=True):
        query = e.expectation_config.kwargs.get("unexpected_rows_query")
        if not query or failure.get("error") or failure.get("sample_rows"):
            continue
        batch = spec.batch_relation  # GX substitutes a table asset's name the same way
        # the query is the suite code's own SQL, not input
        sql = f"select * from ({query.format(batch=batch)}) as bad_rows limit {SAMPLE_ROWS}"  # noqa: S608
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                failure["sample_rows"] = cur.execute(sql).fetchall()
        except psycopg.Error as exc:
            failure["sample_error"] = str(exc).splitlines()[0]


def _failure(e) -> dict:
    cfg = e.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in _SKIP_KWARGS and v is not None}
    res = e.result or {}
    out: dict = {
        "expectation": cfg.type,
        "rule": cfg.description or _describe(cfg.type, kwargs),
        "kwargs": kwargs,
    }
    for k in ("observed_value", "unexpected_count", "unexpected_percent"):
        if res.get(k) is not None:
            out[k] = res[k]
    rows = (res.get("details") or {}).get("unexpected_rows")
    if rows:
        out["sample_rows"] = [dict(r) for r in rows[:SAMPLE_ROWS]]
    elif res.get("partial_unexpected_index_list"):
        out["sample_rows"] = [dict(r) for r in res["partial_unexpected_index_list"][:SAMPLE_ROWS]]
    elif res.get("partial_unexpected_list"):
        out["sample_values"] = list(res["partial_unexpected_list"][:SAMPLE_ROWS])
    info = e.exception_info or {}
    messages = _exception_messages(info)
    if messages:
        out["error"] = messages[0]
    return out


def _exception_messages(info: dict) -> list[str]:
    if info.get("raised_exception"):
        return [str(info.get("exception_message") or "").splitlines()[0]]
    found = []
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            msg = str(value.get("exception_message") or "").splitlines()
            if msg and msg[0] not in found:
                found.append(msg[0])
    return found


def _describe(type_: str, kwargs: dict) -> str:
    words = type_.removeprefix("expect_").replace("_", " ")
    extras = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "column")
    column = kwargs.get("column")
    return (
        f"{column}: {words}" + (f" ({extras})" if extras else "")
        if column
        else (words + (f" ({extras})" if extras else ""))
    )


def _docs_page(context, identifier) -> str | None:
    try:
        urls = context.get_docs_sites_urls(
            resource_identifier=identifier, site_names=[gx_context.DOCS_SITE]
        )
    except Exception:  # noqa: BLE001 - a missing docs page must not hide the result
        return None
    return urls[0]["site_url"] if urls else None


def _docs_index(context) -> str | None:
    try:
        urls = context.get_docs_sites_urls(site_names=[gx_context.DOCS_SITE])
    except Exception:  # noqa: BLE001
        return None
    return urls[0]["site_url"] if urls else None
