"""Run extracts: one source × entity at a time, atomically, recorded in ``ops``.

Each run of a source × entity gets a batch id and a row in ``ops.load_batches``
(running → success/failed, with counts). Loading the rows, applying deletes and moving the
watermark in ``ops.extract_state`` happen in ONE warehouse transaction: either all of it is
visible or none of it. Runs of the same source × entity are serialised by an advisory lock,
so a retry overlapping a slow run cannot interleave. Re-running an interval changes nothing
(unchanged rows are not rewritten; the look-back window re-reads rows, the merge skips them).

Sources are registered in :data:`SOURCES` (name → factory taking the warehouse).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from salesperf import warehouse as wh
from salesperf.landing.load import new_batch_id
from salesperf.sources.crm_db import CrmDatabaseSource, load_mapping

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK_MINUTES = 60
DEFAULT_WORKERS = 2


def _demo_crm(warehouse: wh.Warehouse) -> CrmDatabaseSource:
    from importlib import resources

    from salesperf.sources import demo_crm

    path = resources.files("salesperf.sources.demo_crm").joinpath("mapping.yaml")
    return CrmDatabaseSource(
        "demo_crm",
        demo_crm.crm_warehouse(warehouse),
        load_mapping(path),
        instance_sql="select value from crm.meta where key = 'instance_id'",
    )


SOURCES: dict[str, Callable[[wh.Warehouse], CrmDatabaseSource]] = {"demo_crm": _demo_crm}


def lookback() -> timedelta:
    """Look-back window re-read before the watermark (``SALESPERF_EXTRACT_LOOKBACK_MINUTES``)."""
    return timedelta(
        minutes=float(
            os.environ.get("SALESPERF_EXTRACT_LOOKBACK_MINUTES", DEFAULT_LOOKBACK_MINUTES)
        )
    )


def get_source(name: str, warehouse: wh.Warehouse | None = None) -> CrmDatabaseSource:
    if name not in SOURCES:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(SOURCES))}")
    return SOURCES[name](warehouse or wh.resolve())


def plan(source: str | None = None, entities: list[str] | None = None) -> list[dict[str, str]]:
    """The source × entity pairs to extract (for Airflow's dynamic task mapping).

    Reads only the mappings: no database is touched."""
    names = [source] if source else sorted(SOURCES)
    pairs = []
    for name in names:
        src = SOURCES[name](wh.Warehouse("postgresql://plan@localhost/plan", "plan"))
        for entity in src.entities:
            if entities and entity not in entities:
                continue
            pairs.append({"source": name, "entity": entity})
    if entities:
        missing = set(entities) - {p["entity"] for p in pairs}
        if missing:
            raise KeyError(f"source {source or 'any'} has no entity {', '.join(sorted(missing))}")
    return pairs


def run_entity(
    source: str,
    entity: str,
    warehouse: wh.Warehouse | None = None,
    *,
    lookback_window: timedelta | None = None,
) -> dict:
    """Extract one source × entity; returns its counts (also in ``ops.load_batches``)."""
    warehouse = warehouse or wh.resolve()
    src = get_source(source, warehouse)
    if entity not in src.entities:
        raise KeyError(
            f"source {source} has no entity {entity!r}; known: {', '.join(src.entities)}"
        )
    window = lookback() if lookback_window is None else lookback_window
    batch_id = new_batch_id(source, entity)
    started = time.monotonic()
    with wh.connect(warehouse, autocommit=True, application_name="salesperf-extract") as conn:
        conn.execute(
            "insert into ops.load_batches (batch_id, source, entity) values (%s, %s, %s)",
            (batch_id, source, entity),
        )
        try:
            with conn.transaction():
                conn.execute(
                    "select pg_advisory_xact_lock(hashtext(%s))", (f"extract:{source}:{entity}",)
                )
                row = conn.execute(
                    "select watermark, source_instance from ops.extract_state "
                    "where source = %s and entity = %s",
                    (source, entity),
                ).fetchone()
                watermark, instance = row or (None, None)
                result = src.load_entity(
                    conn, entity, batch_id=batch_id, watermark=watermark, instance=instance,
                    lookback=window,
                )  # fmt: skip
                m = result.merge
                conn.execute(
                    "insert into ops.extract_state as s (source, entity, watermark, last_batch_id, "
                    "last_run_at, rows_loaded, source_instance) values (%s, %s, %s, %s, now(), %s, %s) "
                    "on conflict (source, entity) do update set watermark = excluded.watermark, "
                    "last_batch_id = excluded.last_batch_id, last_run_at = excluded.last_run_at, "
                    "rows_loaded = excluded.rows_loaded, source_instance = excluded.source_instance",
                    (source, entity, result.watermark, batch_id, m.loaded, result.instance),
                )
                conn.execute(
                    "update ops.load_batches set status = 'success', finished_at = clock_timestamp(), "
                    "rows_in = %s, rows_loaded = %s, rows_deleted = %s where batch_id = %s",
                    (m.rows_in, m.loaded, result.hard_deleted, batch_id),
                )
        except Exception as exc:
            conn.execute(
                "update ops.load_batches set status = 'failed', finished_at = now(), message = %s "
                "where batch_id = %s",
                (f"{type(exc).__name__}: {exc}"[:2000], batch_id),
            )
            raise
    counts = {
        "batch_id": batch_id,
        "rows_in": m.rows_in,
        "inserted": m.inserted,
        "updated": m.updated,
        "deleted": result.hard_deleted,
        "watermark": result.watermark.isoformat() if result.watermark else None,
        "seconds": round(time.monotonic() - started, 2),
    }
    log.info(
        "extract %s.%s: %s read, %s inserted, %s updated, %s deleted (batch %s, %.1fs)",
        source, entity, m.rows_in, m.inserted, m.updated, result.hard_deleted, batch_id,
        counts["seconds"],
    )  # fmt: skip
    return counts


def workers() -> int:
    """Entities extracted at once (``SALESPERF_EXTRACT_WORKERS``, default 2)."""
    raw = os.environ.get("SALESPERF_EXTRACT_WORKERS", str(DEFAULT_WORKERS))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"SALESPERF_EXTRACT_WORKERS must be a whole number >= 1, got {raw!r}")
    return n


def run_extract(
    source: str = "demo_crm",
    entities: list[str] | None = None,
    warehouse: wh.Warehouse | None = None,
    *,
    lookback_window: timedelta | None = None,
    max_workers: int | None = None,
) -> dict[str, dict]:
    """Migrate the landing schema, then extract every (or the given) entity of ``source``,
    ``max_workers`` entities at a time (default :func:`workers`), largest source table first.

    Each entity is its own transaction, as in the Airflow DAG's mapped tasks, so extracting
    two at once changes nothing but the time: a first load of the medium demo CRM spends
    half of it on activities, which the other worker overlaps with the twelve other
    entities. Every entity is attempted even when one fails; the first failure is raised
    after all have finished (each is logged and recorded in ``ops.load_batches``)."""
    from salesperf.landing.migrations import migrate

    warehouse = warehouse or wh.resolve()
    max_workers = workers() if max_workers is None else max_workers
    with wh.connect(warehouse) as conn:
        migrate(conn)
    planned = [p["entity"] for p in plan(source, entities)]
    names = list(planned)
    if max_workers > 1 and len(names) > 1:
        sizes = get_source(source, warehouse).size_estimates()
        names.sort(key=lambda e: -sizes.get(e, 0))  # stable: plan order among equals

    def one(entity: str) -> dict:
        return run_entity(source, entity, warehouse, lookback_window=lookback_window)

    # one worker runs them one after another, in plan order: the same path, the same
    # promise (every entity is attempted)
    failures: list[Exception] = []
    results = {}
    with ThreadPoolExecutor(max_workers, thread_name_prefix="extract") as pool:
        futures = {e: pool.submit(one, e) for e in names}
        for entity, future in futures.items():
            try:
                results[entity] = future.result()
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the rest
                log.error("extract %s.%s failed: %s", source, entity, exc)
                failures.append(exc)
    if failures:
        raise failures[0]
    return {e: results[e] for e in planned}  # the plan's order, whatever order they ran in


def landing_changes(results: list[dict]) -> dict[str, int]:
    """Rows inserted, updated and deleted in landing by a set of entity extracts."""
    total = {"inserted": 0, "updated": 0, "deleted": 0}
    for r in results:
        for key in total:
            total[key] += int(r.get(key) or 0)
    return total


def changed_since(conn, started_at) -> int:
    """Landing rows loaded or deleted by extract batches that started at or after
    ``started_at`` (what an extract run changed; 0 means landing is as it was)."""
    row = conn.execute(
        "select coalesce(sum(rows_loaded + rows_deleted), 0) from ops.load_batches "
        "where started_at >= %s and status = 'success'",
        (started_at,),
    ).fetchone()
    return int(row[0])
