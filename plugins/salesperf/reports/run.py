"""Run one report kind for one period: build, enqueue, send (or dry-run to .eml files)."""

from __future__ import annotations

import logging
import multiprocessing
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from salesperf import workers as workers_mod
from salesperf.reports import data, kinds, outbox

log = logging.getLogger(__name__)

# Below this many recipients a second process costs more than it saves.
PARALLEL_MIN_RECIPIENTS = 40


def render_workers() -> int:
    """Processes that render messages: ``SALESPERF_RENDER_WORKERS`` (1 = in this process),
    by default one per core, at most 4. Charts, templates and MIME are CPU-bound Python."""
    return workers_mod.count("SALESPERF_RENDER_WORKERS")


def _shard(key: str, shards: int) -> int:
    return zlib.crc32(key.encode()) % shards


def _build_shard(
    conninfo: str, kind: str, period: str | None, skip_keys: frozenset, shard: int, shards: int
) -> list[kinds.Outgoing]:
    """One worker's part: the messages whose key falls in ``shard``, from its own connection."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = on")

        def skip(key: str) -> bool:
            return key in skip_keys or _shard(key, shards) != shard

        return [out.ready() for out in kinds.build(conn, kind, period, skip=skip)]


def _render_pool(workers: int):
    """``workers`` forked processes (see :func:`build_all`), each ended by SIGTERM from the
    moment it exists (:func:`salesperf.workers.sigterm_held`)."""
    with workers_mod.sigterm_held():
        return multiprocessing.get_context("fork").Pool(
            workers, initializer=workers_mod.reset_signals
        )


def _recipients_hint(conn: psycopg.Connection) -> int:
    """How many reps there are (0 when unknown): a savepoint keeps a missing table from
    breaking the caller's transaction; the builder itself reports missing marts."""
    try:
        with conn.transaction():
            return conn.execute("select count(*) from marts.dim_reps").fetchone()[0]
    except psycopg.Error:
        return 0


def build_all(
    conn: psycopg.Connection, kind: str, period: str | None, skip_keys: frozenset = frozenset()
) -> Iterator[kinds.Outgoing]:
    """Every message of ``kind`` for ``period`` not in ``skip_keys``, prepared (serialised,
    see :meth:`kinds.Outgoing.ready`).

    With several render workers and enough recipients, the messages are built and
    serialised in forked processes, each on its own read-only connection and its own share
    of the recipients (by a hash of the idempotency key), and come back in key order;
    otherwise they are built here, in the builder's order. The content is the same either
    way."""
    workers = render_workers()
    if (
        workers <= 1
        or not workers_mod.can_fork()
        or _recipients_hint(conn) < PARALLEL_MIN_RECIPIENTS
    ):
        for out in kinds.build(conn, kind, period, skip=skip_keys.__contains__):
            yield out.ready()
        return
    conninfo = make_conninfo(conn.info.dsn, password=conn.info.password or None)
    # fork: the workers inherit the loaded modules (spawning would import matplotlib & co.
    # again, ~2 s each); a forked child leaves through os._exit, so the parent's connection
    # is never touched by it.
    log.info("%s: rendering in %d worker processes", kind, workers)
    with workers_mod.frozen_heap():
        pool = _render_pool(workers)
        try:
            parts = pool.starmap(
                _build_shard,
                [(conninfo, kind, period, skip_keys, i, workers) for i in range(workers)],
            )
        finally:
            # close + join, not the context manager's terminate(): each worker gets its
            # end-of-work sentinel and leaves by itself, no signal needed
            pool.close()
            pool.join()
    yield from sorted((o for part in parts for o in part), key=lambda o: o.key)


@dataclass
class RunResult:
    kind: str
    period: str | None
    built: int = 0
    enqueued: int = 0
    written: int = 0
    seconds: float = 0.0
    send: outbox.SendReport | None = None

    def summary(self) -> str:
        s = f"{self.kind} {self.period or ''}: built {self.built}".replace("  ", " ")
        if self.written:
            s += f", wrote {self.written} .eml (dry run)"
        else:
            s += f", newly queued {self.enqueued}"
        if self.send is not None:
            s += f"; {self.send.summary()}"
        return s + f" in {self.seconds:.1f}s"


def run(
    conn: psycopg.Connection,
    kind: str,
    period: str | None,
    *,
    dry_run_dir: Path | str | None = None,
    smtp: outbox.SmtpSettings | None = None,
    require_validation: bool = False,
    send: bool = True,
    retries: int = 3,
    backoff: float = 1.0,
) -> RunResult:
    """Dry run: every message rendered to ``dry_run_dir``, the database is only read.

    Otherwise messages not yet in the outbox are rendered and queued (one transaction), then
    the pending messages of this kind are sent; a failed send raises nothing here; callers
    look at ``result.send`` (the CLI and the DAG tasks fail visibly)."""
    started = time.perf_counter()
    if require_validation:
        data.require_validated(conn)
    result = RunResult(kind, period)
    if dry_run_dir is not None:
        folder = Path(dry_run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for out in build_all(conn, kind, period):
            result.built += 1
            name = f"{out.kind}-{outbox.safe_name(out.period)}-{outbox.safe_name(out.recipient_id)}"
            if out.key_extra:
                name += f"-{outbox.safe_name(out.key_extra)}"
            (folder / f"{name}.eml").write_bytes(out.prepared.body)
            result.written += 1
        result.seconds = time.perf_counter() - started
        return result
    queued = outbox.already_queued(conn, kind)
    with conn.transaction():
        for out in build_all(conn, kind, period, frozenset(queued)):
            result.built += 1
            if outbox.enqueue(
                conn,
                out.kind,
                out.recipient_id,
                out.recipient_email,
                out.period,
                out.subject,
                out.prepared,
                out.key_extra,
            ):
                result.enqueued += 1
    if not conn.autocommit:
        conn.commit()
    if send:
        result.send = outbox.send_pending(
            conn, smtp, kinds=[kind], retries=retries, backoff=backoff
        )
    result.seconds = time.perf_counter() - started
    log.info("%s", result.summary())
    return result
