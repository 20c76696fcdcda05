"""Source kind 1: a CRM's own relational (PostgreSQL) database, extracted incrementally.

A YAML mapping says which source table feeds which landing entity and how its columns map
(see ``demo_crm/mapping.yaml``). Per entity, one extract:

1. opens a REPEATABLE READ snapshot on the source, reads ``max(updated_at)`` (the new
   watermark), then streams ``COPY (select ... where updated_at > watermark - look-back)
   TO STDOUT`` straight into the warehouse's temp table and merges it by key
   (:func:`salesperf.landing.load.merge_copy`); soft-deleted rows carry ``_deleted_at``;
2. streams every key that still exists in the same snapshot into a temp table and marks
   live landing rows missing from it as deleted (hard deletes, key reconciliation).

The caller runs both in one warehouse transaction together with the watermark update, so a
failure leaves landing and watermark as they were. Nothing large is held in Python memory.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import yaml

from salesperf import warehouse as wh
from salesperf.landing import entities as E
from salesperf.landing.load import (
    MergeResult,
    key_bucket_sql,
    key_digest_sql,
    live_key_digests,
    mark_deleted,
    merge_copy,
    stage_keys,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableMapping:
    """One landing entity fed by one source table (alias ``s`` in expressions)."""

    entity: str
    table: str
    columns: dict[str, str] = field(default_factory=dict)
    deleted_at: str | None = None
    extra: tuple[str, ...] = ()
    updated_at: str = "s.updated_at"
    key: str = "s.id"

    @property
    def source_table(self) -> str:
        """``table`` as quoted SQL identifiers: a name from the mapping is data, not SQL."""
        schema, _, table = self.table.rpartition(".")
        return ".".join(quote_ident(p) for p in (schema, table) if p)


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def load_mapping(path: Path) -> dict[str, TableMapping]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    mapping = {}
    for entity, spec in raw.items():
        E.get(entity)  # unknown entity names fail here, naming the entity
        unknown = set(spec.get("columns") or {}) - set(E.get(entity).column_names)
        if unknown:
            raise ValueError(f"{path}: {entity} maps unknown landing columns {sorted(unknown)}")
        mapping[entity] = TableMapping(
            entity=entity,
            table=spec["table"],
            columns=dict(spec.get("columns") or {}),
            deleted_at=spec.get("deleted_at"),
            extra=tuple(spec.get("extra") or ()),
            updated_at=spec.get("updated_at", "s.updated_at"),
            key=spec.get("key", "s.id"),
        )
    return mapping


@dataclass
class EntityLoad:
    merge: MergeResult
    hard_deleted: int
    watermark: datetime | None
    since: datetime | None
    instance: str | None


class SourceSchemaError(RuntimeError):
    """The source lost a column a landing entity requires; that entity is not loaded."""


class CrmDatabaseSource:
    """A CRM database reachable at ``location`` whose tables map onto landing entities."""

    kind = "crm_db"

    def __init__(
        self,
        name: str,
        location: wh.Warehouse,
        mapping: dict[str, TableMapping],
        instance_sql: str | None = None,
    ):
        self.name = name
        self.location = location
        self.mapping = mapping
        # a query naming the source database's instance; when it changes (the database was
        # rebuilt) the old watermark means nothing and the next extract is a full one
        self.instance_sql = instance_sql

    def connect(self) -> psycopg.Connection:
        try:
            return wh.connect(self.location, application_name=f"salesperf-extract-{self.name}")
        except wh.WarehouseError as exc:
            detail = str(exc).split(": ", 1)[-1]
            raise wh.WarehouseError(
                f"source {self.name}: cannot connect to its database at {self.location.describe()}: {detail}"
            ) from None

    @property
    def entities(self) -> list[str]:
        return list(self.mapping)

    def size_estimates(self) -> dict[str, float]:
        """The planner's row estimate of each entity's source table (``pg_class.reltuples``:
        no table is read; -1 for a table never analyzed, 0 when unknown)."""
        tables = {e: m.table for e, m in self.mapping.items()}
        with self._snapshot() as src:
            rows = src.execute(
                "select t.name, coalesce(c.reltuples, 0) from unnest(%s::text[]) as t (name) "
                "left join pg_class c on c.oid = to_regclass(t.name)",
                (list(tables.values()),),
            ).fetchall()
        estimate = dict(rows)
        return {e: float(estimate.get(t, 0)) for e, t in tables.items()}

    def new_columns(self, entity: str, present: set[str]) -> list[str]:
        """Source columns the mapping does not know (a schema change upstream): they are
        kept in ``_extra`` and reported, never dropped silently."""
        m = self.mapping[entity]
        referenced = set(
            re.findall(
                r"[A-Za-z_]\w*",
                " ".join([*m.columns.values(), m.deleted_at or "", m.updated_at or ""]),
            )
        )
        known = set(E.get(entity).column_names) | set(m.extra) | referenced
        new = sorted(present - known)
        if new:
            log.warning(
                "%s.%s: new source columns kept in _extra: %s", self.name, entity, ", ".join(new)
            )
        return new

    def select_sql(self, conn: psycopg.Connection, entity: str, with_meta: bool = False) -> str:
        """The SELECT delivering the entity's columns, then _extra, then _deleted_at (then,
        ``with_meta``, the placeholders %(source)s, %(extracted_at)s, %(batch_id)s)."""
        m = self.mapping[entity]
        ent = E.get(entity)
        schema, _, table = m.table.rpartition(".")
        present = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (schema or "public", table),
            )
        }
        if not present:
            raise LookupError(
                f"source {self.name}: table {m.table} not found at {self.location.describe()}"
            )
        exprs = []
        missing_required = []
        for col in ent.columns:
            expr = m.columns.get(col.name)
            if expr is None:
                if col.name in present:
                    expr = f's."{col.name}"'
                elif col.required:
                    missing_required.append(col.name)
                    continue
                else:
                    log.warning(
                        "%s.%s: no source column for %s; landing gets null",
                        self.name,
                        entity,
                        col.name,
                    )
                    expr = "null"
            exprs.append(f"({expr})::{col.type}")
        if missing_required:
            # Loading nulls into a required column would be silent data loss: stop this
            # entity (its transaction rolls back, nothing partial lands) and say why.
            raise SourceSchemaError(
                f"source {self.name}: {m.table} has no column "
                f"{', '.join(missing_required)}, required by raw.{entity}; nothing of "
                f"{entity} was loaded (fix the source or map the column in the source's mapping)"
            )
        extra = list(m.extra) + self.new_columns(entity, present)
        if extra:
            pairs = ", ".join(f"{_quote_literal(c)}, s.{quote_ident(c)}" for c in extra)
            exprs.append(f"nullif(jsonb_strip_nulls(jsonb_build_object({pairs})), '{{}}'::jsonb)")
        else:
            exprs.append("null::jsonb")
        exprs.append(f"({m.deleted_at})::timestamptz" if m.deleted_at else "null::timestamptz")
        if with_meta:
            exprs += ["%(source)s::text", "%(extracted_at)s::timestamptz", "%(batch_id)s::text"]
        # SQL from the mapping file, which is code the data team reviews (not user input)
        return f"select {', '.join(exprs)} from {m.source_table} s"  # noqa: S608

    @contextlib.contextmanager
    def _snapshot(self):
        """A read-only source connection that is closed, never rolled back, on the way out.

        When the load fails while a ``COPY ... TO STDOUT`` from the source is still
        streaming (the warehouse died mid-load), a ROLLBACK would wait behind the unread
        COPY data forever; a read-only snapshot has nothing to roll back, so close it."""
        src = self.connect()
        try:
            yield src
        finally:
            src.close()

    def load_entity(
        self,
        conn: psycopg.Connection,
        entity: str,
        *,
        batch_id: str,
        watermark: datetime | None,
        lookback: timedelta,
        instance: str | None = None,
        reconcile: bool = True,
    ) -> EntityLoad:
        """Extract ``entity`` changed since ``watermark - lookback`` into ``raw.<entity>``
        using the caller's (open) warehouse transaction ``conn``. ``instance`` is the source
        instance the watermark was taken from; another instance means a full extract."""
        m = self.mapping[entity]
        ent = E.get(entity)
        with self._snapshot() as src:
            src.execute("set timezone to 'UTC'")
            src.execute("set transaction isolation level repeatable read, read only")
            current = src.execute(self.instance_sql).fetchone()[0] if self.instance_sql else None
            if current != instance:
                if watermark is not None:
                    log.info("%s.%s: source instance changed; full extract", self.name, entity)
                watermark = None
            since = watermark - lookback if watermark is not None else None
            high = src.execute(f"select max({m.updated_at}) from {m.source_table} s").fetchone()[0]  # noqa: S608
            extracted_at = datetime.now(UTC)
            # the batch's meta columns travel with the rows (a first load copies straight in)
            params = {"source": self.name, "extracted_at": extracted_at, "batch_id": batch_id}
            select = self.select_sql(src, entity, with_meta=True)
            if since is not None:
                select += f" where {m.updated_at} > %(since)s"
                params["since"] = since
            # binary: every column is cast to its landing type on the source side, so the
            # warehouse receives typed values and parses no text (timestamps, numerics...)
            merged = merge_copy(
                conn, ent, _copy_out(src, f"copy ({select}) to stdout (format binary)", params),
                source=self.name, batch_id=batch_id, extracted_at=extracted_at, with_extra=True,
                with_deleted_at=True, unique_keys=True, meta_in_stream=True, binary=True,
            )  # fmt: skip
            hard_deleted = 0
            # nothing of this source was in landing before: no deletes to look for
            if reconcile and not merged.fresh:
                hard_deleted = self._reconcile(src, conn, entity, batch_id)
            src.rollback()  # read-only snapshot: nothing to commit
        merged.deleted = hard_deleted
        new_wm = max([w for w in (watermark, high) if w is not None], default=None)
        return EntityLoad(merged, hard_deleted, new_wm, since, current)

    def _reconcile(
        self, src: psycopg.Connection, conn: psycopg.Connection, entity: str, batch_id: str
    ) -> int:
        """Mark landing rows whose source row is gone (hard deletes); returns how many.

        Live keys are compared per bucket by count and hash sum on both sides first; only the
        keys of buckets that differ are streamed over and compared one by one. The two sides
        are digested at the same time, each by its own server process (5 M activities: 2.5 s
        per side on the medium bench)."""
        m = self.mapping[entity]
        ent = E.get(entity)
        key = f"({m.key})::text"
        live = f"({m.deleted_at}) is null" if m.deleted_at else "true"
        digest_source = (
            f"select {key_bucket_sql(key)}, {key_digest_sql(key)} from {m.source_table} s "  # noqa: S608
            f"where {live} group by 1"
        )
        # `src` is used by the worker thread only until .result(): never by two at once
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile") as pool:
            source_rows = pool.submit(lambda: src.execute(digest_source).fetchall())
            landing_digests = live_key_digests(conn, ent, self.name)
            source_digests = {r[0]: tuple(r[1:]) for r in source_rows.result()}
        buckets = sorted(
            b for b in set(source_digests) | set(landing_digests)
            if source_digests.get(b) != landing_digests.get(b)
        )  # fmt: skip
        if not buckets:
            return 0
        keys = (
            f"copy (select {key} from {m.source_table} s where {live} "  # noqa: S608
            f"and {key_bucket_sql(key)} = any(%(buckets)s)) to stdout"
        )
        stage_keys(conn, f"_keys_{entity}", _copy_out(src, keys, {"buckets": buckets}))
        return mark_deleted(
            conn, ent, source=self.name, batch_id=batch_id,
            keep_only_ids_in_temp=f"_keys_{entity}", buckets=buckets,
        )  # fmt: skip


def _copy_out(
    src: psycopg.Connection, statement: str, params: dict | None = None
) -> Iterator[memoryview]:
    with src.cursor() as cur:
        with cur.copy(statement, params) as cp:
            yield from cp
