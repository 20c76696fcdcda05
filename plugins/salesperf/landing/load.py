"""Bulk loading into landing tables: ``COPY`` into a temp table, then merge by key.

Every source (CRM database, file exports) lands rows through :func:`merge_rows`, so there is
one way rows enter ``raw.*``: streamed with ``COPY`` (never row inserts), merged on
``(_source, id)`` in the caller's transaction. A failure anywhere before commit leaves the
landing table unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from salesperf.landing.entities import Entity

META = ["_source", "_extracted_at", "_batch_id", "_extra", "_deleted_at"]


def new_batch_id(source: str, entity: str | None = None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    parts = [source, entity, stamp, uuid.uuid4().hex[:8]]
    return ":".join(p for p in parts if p)


@dataclass
class MergeResult:
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated


def merge_rows(
    conn: psycopg.Connection,
    entity: Entity,
    rows: Iterable[Sequence],
    *,
    source: str,
    batch_id: str,
    columns: Sequence[str] | None = None,
    extracted_at: datetime | None = None,
    with_extra: bool = False,
) -> MergeResult:
    """Stream ``rows`` into ``raw.<entity>`` and merge them by ``(_source, id)``.

    ``rows`` are sequences in the order of ``columns`` (default: all entity columns), each
    value already of the right Python type or a string PostgreSQL can cast. With
    ``with_extra`` the last value of each row is a dict (or None) stored in ``_extra``.
    A row whose ``_deleted_at`` was set and that arrives again is revived.
    Must run inside a transaction owned by the caller (nothing commits here).
    """
    columns = list(columns or entity.column_names)
    if "id" not in columns:
        raise ValueError(f"{entity.name}: the column list must contain 'id'")
    unknown = set(columns) - set(entity.column_names)
    if unknown:
        raise ValueError(f"{entity.name}: unknown columns {sorted(unknown)}")
    extracted_at = extracted_at or datetime.now(UTC)
    tmp = sql.Identifier(f"_load_{entity.name}")
    target = sql.SQL("{}.{}").format(sql.Identifier("raw"), sql.Identifier(entity.name))
    copy_cols = columns + (["_extra"] if with_extra else [])
    col_idents = sql.SQL(", ").join(sql.Identifier(c) for c in copy_cols)

    conn.execute(sql.SQL("drop table if exists {}").format(tmp))
    conn.execute(
        sql.SQL("create temp table {} on commit drop as select {} from {} with no data").format(
            tmp, col_idents, target
        )
    )
    n = 0
    with conn.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(tmp, col_idents)) as cp:
        for row in rows:
            if with_extra:
                *values, extra = row
                values.append(json.dumps(extra, ensure_ascii=False, default=str) if extra else None)
                cp.write_row(values)
            else:
                cp.write_row(row)
            n += 1

    result = MergeResult(rows_in=n)
    if n == 0:
        return result
    # Duplicate keys inside one batch: keep the last one delivered (ctid order = COPY order).
    conn.execute(
        sql.SQL("delete from {t} a using {t} b where a.id = b.id and a.ctid < b.ctid").format(t=tmp)
    )
    insert_cols = copy_cols + ["_source", "_extracted_at", "_batch_id", "_deleted_at"]
    updates = [c for c in copy_cols if c != "id"] + ["_extracted_at", "_batch_id", "_deleted_at"]
    # Only rows that changed are rewritten: an unchanged re-extract costs no table churn.
    changed = sql.SQL(" or ").join(
        sql.SQL("{t}.{c} is distinct from excluded.{c}").format(t=target, c=sql.Identifier(c))
        for c in [c for c in copy_cols if c != "id"] + ["_deleted_at"]
    )
    stmt = sql.SQL(
        "insert into {target} ({cols}) "
        "select {src_cols}, %(source)s, %(extracted_at)s, %(batch_id)s, null::timestamptz from {tmp} "
        "on conflict (_source, id) do update set {sets} where {changed} "
        "returning (xmax = 0) as inserted"
    ).format(
        target=target,
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in insert_cols),
        src_cols=col_idents,
        tmp=tmp,
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in updates
        ),
        changed=changed,
    )
    cur = conn.execute(stmt, {"source": source, "extracted_at": extracted_at, "batch_id": batch_id})
    for (inserted,) in cur:
        if inserted:
            result.inserted += 1
        else:
            result.updated += 1
    return result


def mark_deleted(
    conn: psycopg.Connection,
    entity: Entity,
    *,
    source: str,
    batch_id: str,
    ids: Iterable[str] | None = None,
    keep_only_ids_in_temp: str | None = None,
    deleted_at: datetime | None = None,
) -> int:
    """Mark rows of ``source`` as deleted (``_deleted_at``); rows are never physically dropped.

    Either pass ``ids`` to delete, or the name of a temp table with an ``id`` column holding
    every key that still exists in the source (key reconciliation): all other live rows of
    that source are marked deleted.
    """
    deleted_at = deleted_at or datetime.now(UTC)
    target = sql.SQL("{}.{}").format(sql.Identifier("raw"), sql.Identifier(entity.name))
    params = {"source": source, "batch_id": batch_id, "ts": deleted_at}
    if keep_only_ids_in_temp is not None:
        stmt = sql.SQL(
            "update {t} set _deleted_at = %(ts)s, _batch_id = %(batch_id)s "
            "where _source = %(source)s and _deleted_at is null "
            "and not exists (select 1 from {k} k where k.id = {t}.id)"
        ).format(t=target, k=sql.Identifier(keep_only_ids_in_temp))
        return conn.execute(stmt, params).rowcount
    ids = list(ids or [])
    if not ids:
        return 0
    stmt = sql.SQL(
        "update {t} set _deleted_at = %(ts)s, _batch_id = %(batch_id)s "
        "where _source = %(source)s and _deleted_at is null and id = any(%(ids)s)"
    ).format(t=target)
    return conn.execute(stmt, {**params, "ids": ids}).rowcount
