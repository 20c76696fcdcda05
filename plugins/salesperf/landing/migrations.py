"""Idempotent DDL for the landing (``raw``) and operations (``ops``) schemas.

Migrations are numbered and recorded in ``ops.schema_migrations``; applying them takes a
transaction-level advisory lock, so two processes starting at once do not race.
Landing tables are generated from :mod:`salesperf.landing.entities`; a column added to an
entity there is added to an existing table by :func:`sync_entity_columns`.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from salesperf.landing.entities import ENTITIES, Entity

log = logging.getLogger(__name__)

_LOCK_KEY = 7_310_021  # arbitrary, constant: the advisory lock for migrations

META_COLUMNS = (
    ("_source", "text not null"),
    ("_extracted_at", "timestamptz not null default now()"),
    ("_batch_id", "text not null"),
    ("_extra", "jsonb"),
    ("_deleted_at", "timestamptz"),
)


def landing_table_ddl(entity: Entity) -> sql.Composed:
    cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in entity.columns
    ]
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in META_COLUMNS]
    cols.append(sql.SQL("primary key (_source, id)"))
    return sql.SQL("create table if not exists {}.{} ({})").format(
        sql.Identifier("raw"), sql.Identifier(entity.name), sql.SQL(", ").join(cols)
    )


OPS_DDL = [
    # 1: operations tables
    """
    create schema if not exists raw;
    create schema if not exists ops;
    create table if not exists ops.extract_state (
        source      text not null,
        entity      text not null,
        watermark   timestamptz,
        last_batch_id text,
        last_run_at timestamptz,
        rows_loaded bigint,
        primary key (source, entity)
    );
    create table if not exists ops.load_batches (
        batch_id    text primary key,
        source      text not null,
        entity      text,
        file_name   text,
        file_sha256 text,
        started_at  timestamptz not null default now(),
        finished_at timestamptz,
        status      text not null default 'running',
        rows_in     bigint default 0,
        rows_loaded bigint default 0,
        rows_deleted bigint default 0,
        rows_quarantined bigint default 0,
        message     text
    );
    create table if not exists ops.quarantine (
        id          bigserial primary key,
        batch_id    text not null,
        source      text not null,
        entity      text,
        file_name   text,
        line_number bigint,
        column_name text,
        value       text,
        reason      text not null,
        raw_record  jsonb,
        quarantined_at timestamptz not null default now()
    );
    create index if not exists quarantine_batch_idx on ops.quarantine (batch_id);
    create table if not exists ops.imported_files (
        source      text not null,
        file_name   text not null,
        file_sha256 text not null,
        entity      text not null,
        batch_id    text not null,
        rows_loaded bigint not null,
        rows_quarantined bigint not null,
        imported_at timestamptz not null default now(),
        primary key (source, file_name, file_sha256)
    );
    create table if not exists ops.validation_runs (
        id          bigserial primary key,
        run_id      text,
        suite       text not null,
        layer       text not null,
        success     boolean not null,
        evaluated   integer not null,
        successful  integer not null,
        failed      integer not null,
        started_at  timestamptz not null default now(),
        finished_at timestamptz,
        data_docs   text,
        details     jsonb
    );
    create table if not exists ops.email_outbox (
        id              bigserial primary key,
        idempotency_key text not null unique,
        kind            text not null,
        recipient_id    text,
        recipient_email text,
        cc              text[],
        period          text,
        subject         text,
        status          text not null default 'pending',
        attempts        integer not null default 0,
        last_error      text,
        message_id      text,
        eml_path        text,
        created_at      timestamptz not null default now(),
        sent_at         timestamptz
    );
    """,
    # 2: email outbox keeps the exact message bytes (so an interrupted run resumes with the
    # same message and Message-ID) and the envelope sender; index for the sender's queue scan
    """
    alter table ops.email_outbox add column if not exists body bytea;
    alter table ops.email_outbox add column if not exists updated_at timestamptz;
    create index if not exists email_outbox_status_idx on ops.email_outbox (status, id);
    """,
    # 3: which instance of a source database the watermark belongs to (a source that was
    # rebuilt, e.g. a re-created demo CRM, gets a full extract instead of an incremental one)
    """
    alter table ops.extract_state add column if not exists source_instance text;
    """,
    # 4: the version a merge replaced, for models that aggregate landing rows by columns that
    # can change (an activity moved to another month or rep must also be taken out of the old
    # group; the landing row itself only holds the new values). One row per replaced row
    # version; `replaced_at` is the replacing batch's `_extracted_at`.
    """
    create table if not exists ops.landing_replaced_rows (
        entity      text not null,
        _source     text not null,
        id          text not null,
        replaced_at timestamptz not null,
        replaced_by_batch text not null,
        prior       jsonb not null
    );
    create index if not exists landing_replaced_rows_entity_idx
        on ops.landing_replaced_rows (entity, replaced_at);
    """,
    # 5: the dbt seeds as the last successful build left them (salesperf.seed_state): an
    # incremental build skips loading and testing them again while nothing changed.
    """
    create table if not exists ops.dbt_seed_state (
        seed        text primary key,
        fingerprint text not null,
        content_md5 text not null,
        recorded_at timestamptz not null default now()
    );
    """,
]


def _applied(conn: psycopg.Connection) -> set[int]:
    conn.execute(
        "create schema if not exists ops;"
        "create table if not exists ops.schema_migrations ("
        " version integer primary key, applied_at timestamptz not null default now())"
    )
    return {r[0] for r in conn.execute("select version from ops.schema_migrations")}


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply pending migrations and create/extend the landing tables. Idempotent."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        done = _applied(conn)
        for version, ddl in enumerate(OPS_DDL, start=1):
            if version in done:
                continue
            conn.execute(ddl)
            conn.execute("insert into ops.schema_migrations (version) values (%s)", (version,))
            applied_now.append(version)
        for entity in ENTITIES.values():
            conn.execute(landing_table_ddl(entity))
            sync_entity_columns(conn, entity)
    if applied_now:
        log.info("applied migrations %s", applied_now)
    return applied_now


def sync_entity_columns(conn: psycopg.Connection, entity: Entity) -> None:
    """Add columns that the entity gained since its table was created."""
    existing = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = %s",
            (entity.name,),
        )
    }
    for c in entity.columns:
        if c.name not in existing:
            conn.execute(
                sql.SQL("alter table {}.{} add column {} {}").format(
                    sql.Identifier("raw"),
                    sql.Identifier(entity.name),
                    sql.Identifier(c.name),
                    sql.SQL(c.type),
                )
            )
