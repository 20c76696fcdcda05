"""Run one report kind for one period: build, enqueue, send (or dry-run to .eml files)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from salesperf.reports import data, kinds, outbox

log = logging.getLogger(__name__)


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
        for out in kinds.build(conn, kind, period):
            result.built += 1
            name = f"{out.kind}-{outbox.safe_name(out.period)}-{outbox.safe_name(out.recipient_id)}"
            if out.key_extra:
                name += f"-{outbox.safe_name(out.key_extra)}"
            out.message["X-Salesperf-Kind"] = out.kind
            (folder / f"{name}.eml").write_bytes(out.message.as_bytes())
            result.written += 1
        result.seconds = time.perf_counter() - started
        return result
    queued = outbox.already_queued(conn, kind)
    with conn.transaction():
        for out in kinds.build(conn, kind, period, skip=queued.__contains__):
            result.built += 1
            if outbox.enqueue(
                conn,
                out.kind,
                out.recipient_id,
                out.recipient_email,
                out.period,
                out.subject,
                out.message,
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
