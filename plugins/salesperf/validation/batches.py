"""What each landing suite reads in a run: every live row, or only the rows that changed.

A landing suite's batch is ``dq.landing_<entity>``. On a *full* run it is a view of the
table's live rows. On an *incremental* run it is a table holding the live rows written
(inserted, updated, revived) since the suite's last successful run, plus the old rows that a
reference check must see again (below); one scan of the landing table picks them, and every
expectation then reads that small table instead of scanning millions of rows again.

Changed rows are found by the transaction that wrote them (``xmin``), not by ``_extracted_at``
or ``_batch_id``: whatever writes a row, loader or hand-made fix, gives it a new ``xmin``.
Each run records the oldest transaction that may still write to this database when it started
(:func:`oldest_xid_writing_here`); every transaction older than that had committed or aborted
before the run read anything, so a row version it wrote was seen by that run. The next run
re-checks the rows written by that transaction or any later one.

Checks that are not about single rows stay whole-table and cheap: the primary key and the
column types are catalog lookups of the landing table, and the live row count is counted
here over the whole table (``dq.landing_row_counts``) for the row-count rule.

Cross-table rules (``references``: every ``owner_id`` exists in ``raw.users``) can also break
for a row that did not change, when its parent key leaves the parent table. So each such rule
keeps, in ``dq.landing_ref_values__<table>__<column>``, every value its column has held in live rows since the
suite's last full run (a superset: values are added from each batch, never removed). An
incremental run looks those values up in the parent table; the rows holding a value that is
gone join the batch, and the rule reports them as a full run would.

A run is full when asked (``full=True``, ``SALESPERF_DQ_FULL=1``), for a suite's first run,
after a failed run of that suite, when the suite's expectations changed, and for suites with
a rule across rows of the same table (one row per grain).

A full run's preparation reads whole tables (each reference column's values, the live row
count). For the suites whose run is full whatever their expectations are (asked for, first
run, after a failure) :class:`Ahead` does it on a connection of its own while the runner
imports GX and builds the suites, from the references the landing contract declares
(:mod:`salesperf.landing.entities`), which are those of the suites' reference rules.
"""

# ruff: noqa: S608 - identifiers come from the suite registry and the suites' own metadata
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field

from salesperf import warehouse as wh
from salesperf.landing.entities import ENTITIES
from salesperf.validation import gx_context, history

log = logging.getLogger(__name__)

ROW_COUNTS = "dq.landing_row_counts"
REF_VALUES = "dq.landing_ref_values"  # + __<table>__<column>: one table per reference
# The kept values of each reference that its parent table lacks in this run (usually none):
# the reference rule reads the batch only when its values table has a row here.
REF_MISSING = "dq.landing_ref_missing"
_MISSING_NEW = "pg_temp.salesperf_ref_missing_new"  # one reference's missing values, briefly
_HALF_XID_SPACE = 2**31
_XID_SPACE = 2**32


@dataclass
class Plan:
    """How one landing suite is validated in this run (recorded in its details)."""

    suite: str
    mode: str  # "full" | "incremental"
    reason: str
    since_xid: int | None = None  # incremental: rows written by this transaction or later
    batch_rows: int | None = None
    live_rows: int | None = None
    references: list[dict] = field(default_factory=list)

    def details(self, next_since_xid: int, fingerprint: str) -> dict:
        return {
            "mode": self.mode,
            "reason": self.reason,
            "since_xid": self.since_xid,
            "batch_rows": self.batch_rows,
            "next_since_xid": next_since_xid,
            "fingerprint": fingerprint,
        }


def force_full() -> bool:
    return os.environ.get("SALESPERF_DQ_FULL", "").lower() in {"1", "true", "yes"}


# The running transactions of the server's snapshot (cluster-wide), less those that
# pg_stat_activity shows running in another database: a transaction there cannot write
# here. What is left is conservative: a transaction of this database, a prepared one (not
# in pg_stat_activity), or one that ended between the two reads (then what it wrote here
# is committed, or gone, before anything is read). With none left, the snapshot's xmax:
# the next transaction id.
_OLDEST_XID_WRITING_HERE = """
    with snap as (select pg_current_snapshot() as s),
    elsewhere as (
        select a.backend_xid::text::bigint as xid32
        from pg_stat_activity a
        where a.backend_xid is not null
          and a.datid <> (select oid from pg_database where datname = current_database())
    )
    select coalesce(
        (select min(x::text::bigint)
         from snap, pg_snapshot_xip(snap.s) as x
         where x::text::bigint % 4294967296 not in (select xid32 from elsewhere)),
        (select pg_snapshot_xmax(s)::text::bigint from snap)
    )
"""


def oldest_xid_writing_here(conn) -> int:
    """The oldest transaction id (64-bit, with epoch) that may still write to this database.

    Not the snapshot's ``xmin``, which is the oldest running transaction of the whole server:
    a long transaction in another database (Airflow's metadata, another warehouse on the same
    server) would otherwise make every landing batch re-check rows written while it ran."""
    (xid,) = conn.execute(_OLDEST_XID_WRITING_HERE).fetchone()
    return xid


def fingerprint(suite) -> str:
    """Changes when an expectation of the suite changes (an old row was never checked
    against a new expectation, so the next run must be full)."""
    from expectations._rules import _signature

    text = "\n".join(sorted(_signature(e) for e in suite.expectations))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _references(suite) -> list[dict]:
    return [e.meta["references"] for e in suite.expectations if (e.meta or {}).get("references")]


def _needs_whole_table(suite) -> bool:
    """Rules that compare rows of the same table (one row per grain, unique values)."""
    return any(
        (e.meta or {}).get("whole_table")
        or e.configuration.type == "expect_column_values_to_be_unique"
        for e in suite.expectations
    )


def decide(conn, spec, suite, now_xid: int, full: bool) -> Plan:
    refs = _references(suite)
    if full:
        return Plan(spec.name, "full", "asked for", references=refs)
    if _needs_whole_table(suite):
        return Plan(spec.name, "full", "a rule compares rows of the table", references=refs)
    last = history.last_run(conn, spec.name)
    reason = _full_after(last)
    if reason is not None:
        return Plan(spec.name, "full", reason, references=refs)
    state = (last[1] or {}).get("incremental") or {}
    if state.get("fingerprint") != fingerprint(suite):
        return Plan(spec.name, "full", "the suite changed", references=refs)
    since = state.get("next_since_xid")
    if since is None or not 0 <= now_xid - int(since) < _HALF_XID_SPACE:
        return Plan(spec.name, "full", "no comparable previous run", references=refs)
    if any(
        conn.execute("select to_regclass(%s)", (_values_table(spec, r),)).fetchone()[0] is None
        for r in refs
    ):
        return Plan(spec.name, "full", "reference values not kept", references=refs)
    return Plan(
        spec.name, "incremental", "rows changed since the last run", int(since), references=refs
    )


def _full_after(last: tuple[bool, dict] | None) -> str | None:
    """Why the suite's run is full whatever its expectations, given its last recorded run
    (:func:`history.last_run`); None when it may be incremental."""
    if last is None:
        return "first run"
    if not last[0]:
        return "the previous run failed"
    return None


def ensure_tables(conn) -> None:
    conn.execute("create schema if not exists dq")
    conn.execute(
        f"create table if not exists {ROW_COUNTS} (suite text primary key,"
        " live_rows bigint not null, min_rows bigint, max_rows bigint,"
        " counted_at timestamptz not null default now())"
    )
    conn.execute(
        f"create table if not exists {REF_MISSING} (values_table text not null,"
        " _source text, value text not null)"
    )
    # No index on the values tables: they are written in bulk and read whole by a hash
    # anti-join; a value may repeat (an incremental run appends its batch's values). Not
    # unlogged: emptied by a crash, they would hide orphans.


def _drop_relation(conn, relation: str) -> None:
    kind = conn.execute(
        "select c.relkind from pg_class c where c.oid = to_regclass(%s)", (relation,)
    ).fetchone()
    if kind is None:
        return
    conn.execute(f"drop {'view' if kind[0] == 'v' else 'table'} {relation}")


@contextlib.contextmanager
def landing_batches(conn, specs):
    """Every landing suite's batch as the view of live rows, for the duration of a run only
    (a view left behind would block DDL on the raw table); :func:`prepare` turns the batches
    of incremental suites into tables. All are dropped at the end."""
    batches = [s for s in specs if s.batch_view_sql]
    try:
        if batches:
            ensure_tables(conn)
        for spec in batches:
            _drop_relation(conn, spec.batch_relation)
            conn.execute(f"create view {spec.batch_relation} as {spec.batch_view_sql}")
        yield
    finally:
        for spec in batches:
            _drop_relation(conn, spec.batch_relation)


def prepare(
    conn, specs, suites: dict, now_xid: int, full: bool, ahead: dict | None = None
) -> dict[str, Plan]:
    """Decide each landing suite's mode, build its batch, count its live rows and keep its
    reference values (see the module docstring). ``suites``: suite name -> GX suite;
    ``ahead``: what :meth:`Ahead.take` returned, used for a full run of a suite whose
    references are the ones prepared."""
    plans = {}
    for spec in specs:
        if not spec.batch_view_sql:
            continue
        plan = decide(conn, spec, suites[spec.name], now_xid, full)
        if plan.mode == "incremental":
            plan.batch_rows = _materialize_changed(conn, spec, plan)
        done = (ahead or {}).get(spec.name)
        if plan.mode == "full" and done is not None and done[0] == plan.references:
            plan.live_rows = done[1]
        else:
            counted = _keep_reference_values(conn, spec, plan)
            plan.live_rows = _count_live_rows(conn, spec) if counted is None else int(counted)
        plans[spec.name] = plan
    return plans


def declared_references(entity: str) -> list[dict]:
    """The references the landing contract declares for ``entity``, as its suite's
    reference rules record them (``expectations.landing_common.contract`` makes one rule
    from each)."""
    table = ENTITIES[entity].table
    return [
        {
            "column": column,
            "table": ENTITIES[parent].table,
            "table_column": parent_column,
            "same_source": True,
            "values_table": _default_values_table(table, column),
        }
        for column, parent, parent_column in ENTITIES[entity].references
    ]


@dataclass(frozen=True)
class _Table:
    relation: str


class Ahead:
    """The whole-table preparation of the landing suites whose run will be full whatever
    their expectations are (asked for, a first run, after a failed run), started on a
    connection of its own before the suites exist: the runner imports GX and builds them
    meanwhile (1.6 s on the medium bench, against 1.8 s of SQL; the thread waits on
    PostgreSQL without the GIL). Start it after the run's snapshot is taken and the
    ``dq`` tables exist (:func:`ensure_tables`); :meth:`take` waits for it."""

    def __init__(self, warehouse: wh.Warehouse, entities: list[str], full: bool) -> None:
        self._done: dict[str, tuple[list[dict], int]] = {}
        self._error: BaseException | None = None
        self._conn = None
        self._thread = threading.Thread(
            target=self._run, args=(warehouse, entities, full), name="dq-prepare", daemon=True
        )
        self._thread.start()

    def _run(self, warehouse, entities, full) -> None:
        try:
            with wh.connect(warehouse, autocommit=True) as conn:
                self._conn = conn
                conn.execute(f"set jit = off; set work_mem = '{gx_context.WORK_MEM}'")
                for entity in entities:
                    name, table = f"landing.{entity}", _Table(ENTITIES[entity].table)
                    if (
                        conn.execute("select to_regclass(%s)", (table.relation,)).fetchone()[0]
                        is None
                    ):
                        continue
                    if not full and _full_after(history.last_run(conn, name)) is None:
                        continue  # may be incremental: decided once the suite exists
                    plan = Plan(name, "full", "", references=declared_references(entity))
                    counted = _keep_reference_values(conn, table, plan)
                    live = _count_live_rows(conn, table) if counted is None else int(counted)
                    self._done[name] = (plan.references, live)
        except BaseException as exc:  # noqa: BLE001 - reported by take(); prepare() redoes it
            self._error = exc
        finally:
            self._conn = None

    def take(self) -> dict[str, tuple[list[dict], int]]:
        """Wait for the preparation; suite name -> (references, live rows). After an error,
        what was done before it (``prepare`` does the rest, and meets the error itself if
        it persists)."""
        self._thread.join()
        if self._error is not None:
            log.warning(
                "preparing the landing suites ahead failed, preparing in turn: %s", self._error
            )
        return dict(self._done)

    def stop(self) -> None:
        """Cancel the statement running, if any (the run failed or was interrupted before
        :meth:`take`), and wait for the thread. What it leaves is what an interrupted
        preparation always left: each values table whole (CREATE TABLE AS) or gone, and a
        suite without one is validated whole next time (:func:`decide`); an incremental run
        lists the missing values again before it reads them (:func:`_materialize_changed`)."""
        conn = self._conn
        if self._thread.is_alive() and conn is not None:
            with contextlib.suppress(Exception):
                conn.cancel_safe()
        self._thread.join()


def _changed_since(since_xid: int) -> str:
    # xmin is a 32-bit transaction id; age() measures both from the same current id, which
    # compares them modulo 2**32 as PostgreSQL does. A row version more than 2**31
    # transactions old reads as new (checked again, never missed); decide() falls back to a
    # full run when the previous run is that far back.
    return f"age(r.xmin) <= age('{int(since_xid) % _XID_SPACE}'::xid)"


def _materialize_changed(conn, spec, plan: Plan) -> int:
    conditions = [_changed_since(plan.since_xid)]
    for ref in plan.references:
        values = _values_table(spec, ref)
        # values kept from earlier runs that left the parent: their rows join the batch
        _record_missing(conn, ref, values, f"{values} v", "v._source", "v.value")
        pair = f"(r._source, r.{ref['column']})" if ref["same_source"] else f"r.{ref['column']}"
        cols = "_source, value" if ref["same_source"] else "value"
        conditions.append(
            f"{pair} in (select {cols} from {REF_MISSING} where values_table = '{values}')"
        )
    _drop_relation(conn, spec.batch_relation)
    conn.execute(
        f"create table {spec.batch_relation} as select r.* from {spec.relation} r"
        f" where r._deleted_at is null and ({' or '.join(conditions)})"
    )
    conn.execute(f"analyze {spec.batch_relation}")
    return conn.execute(f"select count(*) from {spec.batch_relation}").fetchone()[0]


def _record_missing(
    conn, ref: dict, values: str, source: str, source_col: str, value_col: str, *, add=False
) -> None:
    """Keep in REF_MISSING the values of ``source`` that the reference's parent lacks (all
    of them: the planner picks a hash anti-join, where the rule's own EXISTS would stop at
    the first and probe the parent's index once per value). Selected into a temporary table,
    then inserted: CREATE TABLE AS may scan in parallel, INSERT ... SELECT may not
    (PostgreSQL 15; 0.23 against 0.44 s for the 500 k opportunity ids of the medium stage
    history). The values never pass through Python: an export whose references are all
    orphans (millions of values) costs the server a scan, not this process its memory."""
    if not add:
        conn.execute(f"delete from {REF_MISSING} where values_table = %s", (values,))
    same = f" and t._source = {source_col}" if ref["same_source"] else ""
    conn.execute(f"drop table if exists {_MISSING_NEW}")
    conn.execute(
        f"create temporary table {_MISSING_NEW} as select {source_col} as _source,"
        f" {value_col} as value from {source}"
        f" where {value_col} is not null and not exists (select 1 from {ref['table']} t"
        f" where t.{ref['table_column']}::text = {value_col}{same})"
        f" group by 1, 2"
    )
    conn.execute(
        f"insert into {REF_MISSING} (values_table, _source, value)"
        f" select %s, _source, value from {_MISSING_NEW}",
        (values,),
    )
    conn.execute(f"drop table {_MISSING_NEW}")


def _values_table(spec, ref: dict) -> str:
    """The table named by the rule itself (it reads it: see ``values_in`` of the
    ``references`` rule), else the default name."""
    return ref.get("values_table") or _default_values_table(spec.relation, ref["column"])


def _default_values_table(relation: str, column: str) -> str:
    return f"{REF_VALUES}__{relation.split('.', 1)[1]}__{column}"


def _keep_reference_values(conn, spec, plan: Plan) -> int | None:
    """Keep the values of each reference column: on a full run those of all live rows (a
    fresh table, whose ``n`` column counts the live rows in the same scan), on an
    incremental one the batch's, added. Returns the live row count, or None."""
    live_rows = None
    for ref in plan.references:
        column, table = ref["column"], _values_table(spec, ref)
        if plan.mode == "incremental":
            conn.execute(
                f"insert into {table} (_source, value, n) select _source, {column}::text, 0"
                f" from {spec.batch_relation} where {column} is not null group by 1, 2"
            )
            # the batch's own values the parent lacks, beside the old ones found before
            _record_missing(
                conn,
                ref,
                table,
                f"{spec.batch_relation} b",
                "b._source",
                f"b.{column}::text",
                add=True,
            )
            continue
        # CREATE TABLE AS may scan in parallel, INSERT ... SELECT may not (PostgreSQL 15).
        # No index: read whole by a hash anti-join; a value may repeat after incremental runs.
        conn.execute(f"drop table if exists {table}")
        conn.execute(
            f"create table {table} as select _source, {column}::text as value, count(*) as n"
            f" from {spec.relation} where _deleted_at is null group by 1, 2"
        )
        conn.execute(f"analyze {table}")
        _record_missing(conn, ref, table, f"{table} v", "v._source", "v.value")
        live_rows = conn.execute(f"select coalesce(sum(n), 0) from {table}").fetchone()[0]
    return live_rows


def _count_live_rows(conn, spec) -> int:
    return conn.execute(
        f"select count(*) from {spec.relation} where _deleted_at is null"
    ).fetchone()[0]


def record_row_counts(conn, plans: dict[str, Plan]) -> None:
    """The live row counts and their bounds from the previous successful run, for the
    row-count rule (read by the suites from ``dq.landing_row_counts``)."""
    for name, plan in plans.items():
        low, high = history.row_count_bounds(history.previous_row_count(conn, name))
        conn.execute(
            f"insert into {ROW_COUNTS} (suite, live_rows, min_rows, max_rows) values (%s, %s, %s, %s)"
            " on conflict (suite) do update set live_rows = excluded.live_rows,"
            " min_rows = excluded.min_rows, max_rows = excluded.max_rows, counted_at = now()",
            (name, plan.live_rows, low, high),
        )


def describe(plans: dict[str, Plan]) -> str:
    return json.dumps({n: [p.mode, p.batch_rows] for n, p in plans.items()})
