"""Bulk loading into landing tables: ``COPY`` into a temp table, then merge by key.

Every source (CRM database, file exports) lands rows through :func:`merge_rows` (Python
rows) or :func:`merge_copy` (COPY text data streamed straight from a source database), so
there is one way rows enter ``raw.*``: streamed with ``COPY`` (never row inserts), merged on
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
    fresh: bool = False  # the target held no rows of this source before (plain insert)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated


def _target(entity: Entity) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier("raw"), sql.Identifier(entity.name))


def _stage(
    conn: psycopg.Connection,
    entity: Entity,
    columns: Sequence[str] | None,
    with_extra: bool,
    with_deleted_at: bool,
) -> tuple[sql.Identifier, list[str]]:
    """Create the (empty) temp table rows are copied into; returns it and its columns."""
    copy_cols = _data_columns(entity, columns, with_extra, with_deleted_at)
    tmp = sql.Identifier(f"_load_{entity.name}")
    conn.execute(sql.SQL("drop table if exists {}").format(tmp))
    conn.execute(
        sql.SQL("create temp table {} on commit drop as select {} from {} with no data").format(
            tmp, sql.SQL(", ").join(sql.Identifier(c) for c in copy_cols), _target(entity)
        )
    )
    return tmp, copy_cols


def _data_columns(
    entity: Entity, columns: Sequence[str] | None, with_extra: bool, with_deleted_at: bool
) -> list[str]:
    columns = list(columns or entity.column_names)
    if "id" not in columns:
        raise ValueError(f"{entity.name}: the column list must contain 'id'")
    unknown = set(columns) - set(entity.column_names)
    if unknown:
        raise ValueError(f"{entity.name}: unknown columns {sorted(unknown)}")
    extra = (["_extra"] if with_extra else []) + (["_deleted_at"] if with_deleted_at else [])
    return columns + extra


def _is_fresh(conn: psycopg.Connection, entity: Entity, source: str) -> bool:
    """True when ``raw.<entity>`` holds no row at all (live or deleted) of ``source``."""
    stmt = sql.SQL("select not exists (select 1 from {} where _source = %s)").format(
        _target(entity)
    )
    return conn.execute(stmt, (source,)).fetchone()[0]


def _analyze(conn: psycopg.Connection, entity: Entity) -> None:
    """Fresh planner statistics for every column of ``raw.<entity>``.

    Right after a big load the planner must see the new size and the new values: a join
    planned for an "empty" table becomes a nested loop, and dbt's incremental models filter
    on ``_extracted_at``. Autovacuum would get there eventually, or never where it is
    switched off (as on this project's CI machines). ANALYZE samples 30,000 rows, about
    half a second for 5 M activities."""
    conn.execute(sql.SQL("analyze {}").format(_target(entity)))


# Re-analyze after a merge that changed at least this share of the table (autovacuum's
# default analyze threshold).
ANALYZE_CHANGED_SHARE = 0.1


# The columns dbt's incremental models filter on ("landed or deleted after the last build").
WATERMARK_COLUMNS = ("_extracted_at", "_deleted_at")


def _refresh_statistics(conn: psycopg.Connection, entity: Entity, changed: int) -> None:
    """After a merge: the whole table when a large share changed; otherwise, when anything
    changed, only the watermark columns.

    Every merge writes `_extracted_at` values newer than any the statistics know, and dbt's
    incremental models select `_extracted_at > <the last build>`: with the old histogram
    PostgreSQL estimates that at one row, whatever the day brought, and plans nested loops
    over it (fct_stage_transitions on the large bench: 37.6 s for 12,962 changed
    opportunities; 4.8 s after an ANALYZE). Autovacuum's own analyze waits for 10 % of the
    table to change, or never comes where it is off. Two columns cost about 0.15 s on
    20 M activities."""
    if not changed:
        return
    (estimate,) = conn.execute(
        "select greatest(reltuples, 0)::bigint from pg_class where oid = %s::regclass",
        (_target(entity).as_string(conn),),
    ).fetchone()
    if changed >= ANALYZE_CHANGED_SHARE * estimate:
        _analyze(conn, entity)
    else:
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in WATERMARK_COLUMNS)
        conn.execute(sql.SQL("analyze {} ({})").format(_target(entity), cols))


def _copy_stmt(tmp: sql.Composable, copy_cols: list[str], binary: bool = False) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in copy_cols)
    fmt = sql.SQL(" (format binary)" if binary else "")
    return sql.SQL("copy {} ({}) from stdin{}").format(tmp, cols, fmt)


def _primary_key(conn: psycopg.Connection, entity: Entity) -> str | None:
    """The name of ``raw.<entity>``'s primary key constraint, when it has one."""
    row = conn.execute(
        "select conname from pg_constraint where conrelid = %s::regclass and contype = 'p'",
        (_target(entity).as_string(conn),),
    ).fetchone()
    return row[0] if row else None


def _is_empty(conn: psycopg.Connection, entity: Entity) -> bool:
    stmt = sql.SQL("select not exists (select 1 from {})").format(_target(entity))
    return conn.execute(stmt).fetchone()[0]


def _copy_in(conn: psycopg.Connection, stmt: sql.Composed, chunks) -> int:
    with conn.cursor() as cur:
        with cur.copy(stmt) as cp:
            for chunk in chunks:
                cp.write(chunk)
        return cur.rowcount


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
    with_deleted_at: bool = False,
    unique_keys: bool = False,
) -> MergeResult:
    """Stream ``rows`` into ``raw.<entity>`` and merge them by ``(_source, id)``.

    ``rows`` are sequences in the order of ``columns`` (default: all entity columns), each
    value already of the right Python type or a string PostgreSQL can cast. With
    ``with_extra`` the next value of each row is a dict (or None) stored in ``_extra``; with
    ``with_deleted_at`` the last value is the source's soft-delete time (or None).
    A row whose ``_deleted_at`` was set and that arrives again live is revived.
    ``unique_keys`` promises no id repeats within ``rows`` (skips the de-duplication).
    Must run inside a transaction owned by the caller (nothing commits here).
    """
    tmp, copy_cols = _stage(conn, entity, columns, with_extra, with_deleted_at)
    extra_at = len(copy_cols) - 1 - int(with_deleted_at) if with_extra else None
    n = 0
    with conn.cursor().copy(_copy_stmt(tmp, copy_cols)) as cp:
        for row in rows:
            if extra_at is not None:
                row = list(row)
                extra = row[extra_at]
                row[extra_at] = (
                    json.dumps(extra, ensure_ascii=False, default=str) if extra else None
                )
            cp.write_row(row)
            n += 1
    return _merge_staged(
        conn, entity, tmp, copy_cols, n,
        source=source, batch_id=batch_id, extracted_at=extracted_at, unique_keys=unique_keys,
    )  # fmt: skip


def merge_copy(
    conn: psycopg.Connection,
    entity: Entity,
    chunks: Iterable[bytes | memoryview],
    *,
    source: str,
    batch_id: str,
    columns: Sequence[str] | None = None,
    extracted_at: datetime | None = None,
    with_extra: bool = False,
    with_deleted_at: bool = False,
    unique_keys: bool = False,
    meta_in_stream: bool = False,
    binary: bool = False,
) -> MergeResult:
    """Like :func:`merge_rows`, but ``chunks`` is COPY text-format data in that column order,
    typically read from ``COPY (select ...) TO STDOUT`` on the source database, so rows
    stream from database to database without being parsed in Python.

    With ``meta_in_stream`` each row ends with ``source``, ``extracted_at`` and ``batch_id``
    (the same values as the arguments). Then, if ``unique_keys`` holds and the target has no
    row of this source yet, the rows are copied straight into ``raw.<entity>``: a first load
    costs one COPY, not a COPY plus an INSERT ... SELECT. When the table is empty altogether,
    its primary key is dropped for the COPY and built again after it (one sort instead of
    millions of index insertions; duplicate keys still fail the load, at the rebuild).

    With ``binary`` the data is in PostgreSQL's binary COPY format, each column already of
    the landing column's type (``COPY (select ...::type ...) TO STDOUT (FORMAT binary)``):
    nothing is parsed from text on the way in."""
    meta = ["_source", "_extracted_at", "_batch_id"] if meta_in_stream else []
    if meta_in_stream and unique_keys and _is_fresh(conn, entity, source):
        cols = _data_columns(entity, columns, with_extra, with_deleted_at) + meta
        pkey = _primary_key(conn, entity) if _is_empty(conn, entity) else None
        if pkey:
            conn.execute(
                sql.SQL("alter table {} drop constraint {}").format(
                    _target(entity), sql.Identifier(pkey)
                )
            )
        n = _copy_in(conn, _copy_stmt(_target(entity), cols, binary), chunks)
        if pkey:
            conn.execute("set local maintenance_work_mem = '256MB'")
            conn.execute(
                sql.SQL("alter table {} add constraint {} primary key (_source, id)").format(
                    _target(entity), sql.Identifier(pkey)
                )
            )
        _analyze(conn, entity)
        return MergeResult(rows_in=n, inserted=n, fresh=True)
    tmp, copy_cols = _stage(conn, entity, columns, with_extra, with_deleted_at)
    if meta_in_stream:  # staged too, but the merge takes the arguments (the same values)
        conn.execute(
            sql.SQL(
                "alter table {} add column _source text, add column _extracted_at timestamptz, "
                "add column _batch_id text"
            ).format(tmp)
        )
    n = _copy_in(conn, _copy_stmt(tmp, copy_cols + meta, binary), chunks)
    return _merge_staged(
        conn, entity, tmp, copy_cols, n,
        source=source, batch_id=batch_id, extracted_at=extracted_at, unique_keys=unique_keys,
    )  # fmt: skip


def _merge_staged(
    conn: psycopg.Connection,
    entity: Entity,
    tmp: sql.Identifier,
    copy_cols: list[str],
    n: int,
    *,
    source: str,
    batch_id: str,
    extracted_at: datetime | None,
    unique_keys: bool,
) -> MergeResult:
    result = MergeResult(rows_in=n)
    if n == 0:
        return result
    extracted_at = extracted_at or datetime.now(UTC)
    target = _target(entity)
    if not unique_keys:
        # Duplicate keys inside one batch: keep the last one delivered (ctid order = COPY order).
        conn.execute(
            sql.SQL("delete from {t} a using {t} b where a.id = b.id and a.ctid < b.ctid").format(
                t=tmp
            )
        )
    data_cols = [c for c in copy_cols if c != "_deleted_at"]
    deleted = sql.SQL("_deleted_at" if "_deleted_at" in copy_cols else "null::timestamptz")
    insert_cols = data_cols + ["_source", "_extracted_at", "_batch_id", "_deleted_at"]
    params = {"source": source, "extracted_at": extracted_at, "batch_id": batch_id}
    select = sql.SQL(
        "select {src_cols}, %(source)s, %(extracted_at)s, %(batch_id)s, {deleted} from {tmp}"
    ).format(
        src_cols=sql.SQL(", ").join(sql.Identifier(c) for c in data_cols), deleted=deleted, tmp=tmp
    )
    insert = sql.SQL("insert into {target} ({cols}) ").format(
        target=target, cols=sql.SQL(", ").join(sql.Identifier(c) for c in insert_cols)
    )
    if _is_fresh(conn, entity, source):
        # First load of this source: nothing to merge with, a plain insert is the fast path.
        result.inserted = conn.execute(insert + select, params).rowcount
        result.fresh = True
        _analyze(conn, entity)
        return result
    updates = [c for c in data_cols if c != "id"] + ["_extracted_at", "_batch_id", "_deleted_at"]
    compared = [c for c in data_cols if c != "id"] + ["_deleted_at"]
    _log_replaced_rows(conn, entity, tmp, compared, "_deleted_at" in copy_cols, params)
    # Only rows that changed are rewritten: an unchanged re-extract costs no table churn.
    changed = _differs(target, sql.Identifier("excluded"), compared)
    stmt = sql.SQL(
        "with merged as ({insert} {select} on conflict (_source, id) do update set {sets} "
        "where {changed} returning (xmax = 0) as inserted) "
        "select count(*) filter (where inserted), count(*) filter (where not inserted) from merged"
    ).format(
        insert=insert,
        select=select,
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in updates
        ),
        changed=changed,
    )
    result.inserted, result.updated = conn.execute(stmt, params).fetchone()
    _refresh_statistics(conn, entity, result.inserted + result.updated)
    return result


def _differs(
    current: sql.Composable,
    incoming: sql.Composable,
    compared: list[str],
    incoming_has_deleted_at: bool = True,
) -> sql.Composed:
    """SQL true when the incoming row differs from the current landing row in any compared
    column: the one test of "this row changes" for the merge and for the replaced-rows log.
    A batch without ``_deleted_at`` stages none: its rows are live (null)."""
    return sql.SQL(" or ").join(
        sql.SQL("{cur}.{c} is distinct from {inc}.{c}").format(
            cur=current, inc=incoming, c=sql.Identifier(c)
        )
        if c != "_deleted_at" or incoming_has_deleted_at
        else sql.SQL("{cur}._deleted_at is not null").format(cur=current)
        for c in compared
    )


def _log_replaced_rows(
    conn: psycopg.Connection,
    entity: Entity,
    tmp: sql.Identifier,
    compared: list[str],
    staged_deleted_at: bool,
    params: dict,
) -> int:
    """Keep the current version of every landing row the staged batch is about to change
    (same comparison as the merge's) in ``ops.landing_replaced_rows``.

    Aggregating models need it: an activity moved to another month or owner must leave its
    old group too, and once merged the landing row holds only the new values. ``_extra``
    (unmapped source columns) is left out: nothing groups by it."""
    differs = _differs(sql.Identifier("t"), sql.Identifier("s"), compared, staged_deleted_at)
    stmt = sql.SQL(
        "insert into ops.landing_replaced_rows "
        "(entity, _source, id, replaced_at, replaced_by_batch, prior) "
        "select %(entity)s, t._source, t.id, %(extracted_at)s, %(batch_id)s, to_jsonb(t) - '_extra' "
        "from {target} as t join {tmp} as s on s.id = t.id "
        "where t._source = %(source)s and ({differs})"
    ).format(target=_target(entity), tmp=tmp, differs=differs)
    return conn.execute(stmt, {**params, "entity": entity.name}).rowcount


def stage_keys(conn: psycopg.Connection, name: str, chunks: Iterable[bytes | memoryview]) -> int:
    """Copy a stream of ids (COPY text, one per line) into temp table ``name`` (dropped at
    commit), for :func:`mark_deleted`'s key reconciliation; returns how many."""
    tmp = sql.Identifier(name)
    conn.execute(sql.SQL("drop table if exists {}").format(tmp))
    conn.execute(sql.SQL("create temp table {} (id text) on commit drop").format(tmp))
    n = _copy_in(conn, sql.SQL("copy {} (id) from stdin").format(tmp), chunks)
    conn.execute(sql.SQL("analyze {}").format(tmp))
    return n


# Key reconciliation by buckets: both sides sum a per-key hash per bucket of keys; only the
# buckets that differ need their keys compared. PostgreSQL's own text hash (hashtext, 4x
# cheaper than md5) is the same on every PostgreSQL >= 11 of the same byte order, which
# covers source CRM databases in practice.
def key_bucket_sql(key: str) -> str:
    """SQL for the bucket (0-4095) of the text key expression ``key``."""
    return f"(hashtext({key}) & 4095)"


def key_digest_sql(key: str) -> str:
    """SQL summing to a per-bucket digest: count and this sum change when keys change."""
    return f"count(*), sum(hashtextextended({key}, 1))"


def live_key_digests(conn: psycopg.Connection, entity: Entity, source: str) -> dict[int, tuple]:
    """bucket -> (count, hash sum) over the live landing keys of ``source``."""
    stmt = sql.SQL(
        "select " + key_bucket_sql("id") + ", " + key_digest_sql("id") + " from {} "  # noqa: S608
        "where _source = %s and _deleted_at is null group by 1"
    ).format(_target(entity))
    return {r[0]: tuple(r[1:]) for r in conn.execute(stmt, (source,))}


def mark_deleted(
    conn: psycopg.Connection,
    entity: Entity,
    *,
    source: str,
    batch_id: str,
    ids: Iterable[str] | None = None,
    keep_only_ids_in_temp: str | None = None,
    deleted_at: datetime | None = None,
    buckets: Sequence[int] | None = None,
) -> int:
    """Mark rows of ``source`` as deleted (``_deleted_at``); rows are never physically dropped.

    Either pass ``ids`` to delete, or the name of a temp table with an ``id`` column holding
    every key that still exists in the source (key reconciliation): all other live rows of
    that source are marked deleted. With ``buckets`` (see :func:`key_bucket_sql`) the temp
    table holds only the keys of those buckets and only rows in them are considered.
    """
    deleted_at = deleted_at or datetime.now(UTC)
    target = _target(entity)
    params = {"source": source, "batch_id": batch_id, "ts": deleted_at}
    if keep_only_ids_in_temp is not None:
        scope = sql.SQL("")
        if buckets is not None:
            scope = sql.SQL(" and " + key_bucket_sql("id") + " = any(%(buckets)s)")
            params["buckets"] = list(buckets)
        # EXCEPT (hashed set operation) rather than NOT EXISTS: right after a big load the
        # landing table's statistics are stale and the planner would pick a nested loop.
        # The keys gone are collected first, then marked through the primary key: in one
        # statement the planner could not know how few they are and scanned the whole
        # table a second time to join them (3 s of 4.7 on 5 M activities, medium bench).
        gone = sql.Identifier(f"{keep_only_ids_in_temp}_gone")
        conn.execute(sql.SQL("drop table if exists {}").format(gone))
        conn.execute(
            sql.SQL(
                "create temp table {g} on commit drop as "
                "select id from {t} where _source = %(source)s and _deleted_at is null{scope} "
                "except select id from {k}"
            ).format(g=gone, t=target, k=sql.Identifier(keep_only_ids_in_temp), scope=scope),
            params,
        )
        conn.execute(sql.SQL("analyze {}").format(gone))
        stmt = sql.SQL(
            "update {t} set _deleted_at = %(ts)s, _batch_id = %(batch_id)s from {g} "
            "where {t}._source = %(source)s and {t}.id = {g}.id"
        ).format(t=target, g=gone)
        n = conn.execute(stmt, params).rowcount
    else:
        ids = list(ids or [])
        if not ids:
            return 0
        stmt = sql.SQL(
            "update {t} set _deleted_at = %(ts)s, _batch_id = %(batch_id)s "
            "where _source = %(source)s and _deleted_at is null and id = any(%(ids)s)"
        ).format(t=target)
        n = conn.execute(stmt, {**params, "ids": ids}).rowcount
    _refresh_statistics(conn, entity, n)
    return n
