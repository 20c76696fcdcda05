"""The email outbox (``ops.email_outbox``): every message is enqueued first, then sent.

* ``enqueue`` stores the finished message (its exact bytes and Message-ID) under an
  idempotency key ``kind|recipient|period[|extra]``; enqueuing the same key again is a no-op,
  so a rerun or backfill never produces a second message.
* ``send_pending`` sends rows in status ``pending`` or ``failed`` (below ``MAX_ATTEMPTS``)
  through the SMTP connection ``smtp_default``. A row becomes ``sent`` only after the server
  accepted the message; each row is committed on its own, so a run that dies half-way resumes
  with the rest. Transient errors are retried with exponential back-off; when the server stays
  unreachable the run stops, leaves the remaining rows pending and reports the failure.
* Exactly once across a crash: before the SMTP transaction the row is committed as
  ``sending`` and its sender holds a session advisory lock on it. A process killed after the
  server took the message but before ``sent`` was recorded leaves a ``sending`` row whose lock
  is gone; the next run never resends it blindly but marks it ``in_doubt`` and reports it
  (the run is not ``ok``). :func:`resolve_in_doubt` settles such rows from the mail server's
  record of accepted Message-IDs: delivered -> ``sent``, not delivered -> ``pending``.
* Dry run: ``send_pending(conn, dry_run_dir=...)`` writes ``.eml`` files and changes no status.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import smtplib
import ssl
import sys
import time
from dataclasses import dataclass, field
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg

log = logging.getLogger(__name__)

CONN_ID = "smtp_default"
MAX_ATTEMPTS = 8
STATUSES = ("pending", "sending", "sent", "failed", "in_doubt")
SENDING_LOCK = 0x5E4D  # advisory lock class (two-key form) held on a row while it is sent
_CRLF = re.compile(r"[\r\n\x00]+")


# ------------------------------------------------------------------ building messages


def clean_header(value: str | None) -> str:
    """A header value without CR/LF/NUL (no header injection from CRM names)."""
    return _CRLF.sub(" ", str(value or "")).strip()


def address(name: str | None, email: str) -> Address:
    """An ``Address`` from CRM data; raises ValueError for an unusable e-mail address."""
    addr = clean_header(email)
    if not addr or "@" not in addr or any(c in addr for c in " ,;<>\"'"):
        raise ValueError(f"invalid e-mail address {addr!r}")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=clean_header(name), username=local, domain=domain)


class HeaderClasses(HeaderRegistry):
    """The standard header registry, with each header's class made once.

    ``HeaderRegistry`` builds a new class (``type(...)``) for every header it parses, about
    25 an e-mail, a fifth of the time spent building and serialising one; the classes are
    the same every time, so they are kept here by header name."""

    def __init__(self, *args, **kwargs):
        self._classes: dict[str, type] = {}
        super().__init__(*args, **kwargs)

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def map_to_type(self, name: str, cls: type) -> None:
        self._classes.pop(name.lower(), None)
        super().map_to_type(name, cls)


# Every message is built and serialised with it: the standard SMTP policy (CRLF line ends).
SMTP_POLICY = SMTP.clone(header_factory=HeaderClasses())


def new_message(
    *,
    subject: str,
    to: Address | list[Address],
    from_addr: Address | str | None = None,
    cc: list[Address] | None = None,
    domain: str = "salesperf.local",
) -> EmailMessage:
    """An empty ``EmailMessage`` with safe headers and a fresh Message-ID."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = clean_header(subject)
    msg["From"] = from_addr or default_from()
    msg["To"] = to if isinstance(to, list) else [to]
    if cc:
        msg["Cc"] = cc
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    return msg


@functools.cache
def default_from() -> str:
    try:
        return SmtpSettings.from_airflow().from_email
    except LookupError:
        return "reports@salesperf.local"


# ------------------------------------------------------------------ the queue


def idempotency_key(kind: str, recipient_id, period: str, key_extra=None) -> str:
    parts = [str(kind), str(recipient_id), str(period)]
    if key_extra not in (None, ""):
        parts.append(str(key_extra))
    return "|".join(parts)


@dataclass(frozen=True)
class Prepared:
    """A message as the outbox stores it and a dry run writes it: its Message-ID, its Cc
    addresses and its bytes (SMTP policy)."""

    message_id: str
    cc: list[str] | None
    body: bytes


def prepare(message: EmailMessage, kind: str) -> Prepared:
    """Stamp the headers every sent or dry-run message carries (Message-ID, the kind) and
    serialise it. Render workers call this, so the bytes are made on their cores."""
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain="salesperf.local")
    if not message["To"]:
        raise ValueError("message has no To header")
    if message["X-Salesperf-Kind"] is None:
        message["X-Salesperf-Kind"] = clean_header(kind)
    cc = [a.addr_spec for h in (message.get_all("Cc") or []) for a in h.addresses]
    return Prepared(str(message["Message-ID"]), cc or None, message.as_bytes(policy=SMTP_POLICY))


def enqueue(
    conn: psycopg.Connection,
    kind: str,
    recipient_id,
    recipient_email: str,
    period: str,
    subject: str,
    message: EmailMessage | Prepared,
    key_extra=None,
) -> bool:
    """Store a message under its idempotency key; True if new, False if already queued/sent."""
    ready = message if isinstance(message, Prepared) else prepare(message, kind)
    key = idempotency_key(kind, recipient_id, period, key_extra)
    row = conn.execute(
        """
        insert into ops.email_outbox
            (idempotency_key, kind, recipient_id, recipient_email, cc, period, subject,
             status, message_id, body, updated_at)
        values (%s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s, now())
        on conflict (idempotency_key) do nothing
        returning id
        """,
        (
            key,
            kind,
            str(recipient_id),
            clean_header(recipient_email),
            ready.cc,
            str(period),
            clean_header(subject),
            ready.message_id,
            ready.body,
        ),
    ).fetchone()
    return row is not None


def already_queued(conn: psycopg.Connection, kind: str, period: str | None = None) -> set[str]:
    """Idempotency keys of one kind (and period) already in the outbox, to skip rendering."""
    q = "select idempotency_key from ops.email_outbox where kind = %s"
    args: list = [kind]
    if period is not None:
        q += " and period = %s"
        args.append(str(period))
    return {r[0] for r in conn.execute(q, args)}


# ------------------------------------------------------------------ SMTP settings


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    login: str = ""
    password: str = field(default="", repr=False)
    from_email: str = "reports@salesperf.local"
    use_ssl: bool = False
    use_starttls: bool = False
    timeout: float = 10.0

    def describe(self) -> str:
        """Host and port only, never credentials (for logs)."""
        return f"{self.host}:{self.port}"

    @classmethod
    def from_uri(cls, uri: str) -> SmtpSettings:
        """Airflow connection URI (``smtp://user:pw@host:port?from_email=..``) or JSON form."""
        uri = uri.strip()
        if uri.startswith("{"):
            d = json.loads(uri)
            extra = d.get("extra") or {}
            if isinstance(extra, str):
                extra = json.loads(extra or "{}")
            return cls._build(
                d.get("host"), d.get("port"), d.get("login"), d.get("password"), extra
            )
        p = urlsplit(uri)
        extra = dict(parse_qsl(p.query))
        if "__extra__" in extra:
            extra = json.loads(extra["__extra__"])
        return cls._build(
            unquote(p.hostname or ""),
            p.port,
            unquote(p.username or ""),
            unquote(p.password or ""),
            extra,
        )

    @classmethod
    def _build(cls, host, port, login, password, extra: dict) -> SmtpSettings:
        def flag(name: str) -> bool:
            return str(extra.get(name, "false")).lower() in ("1", "true", "yes")

        if not host:
            raise LookupError(f"SMTP connection {CONN_ID!r} has no host")
        use_ssl = not flag("disable_ssl")
        return cls(
            host=host,
            port=int(port or (465 if use_ssl else 25)),
            login=login or "",
            password=password or "",
            from_email=extra.get("from_email") or "reports@salesperf.local",
            use_ssl=use_ssl,
            use_starttls=not use_ssl and not flag("disable_tls"),
            timeout=float(extra.get("timeout") or 10),
        )

    @classmethod
    def from_airflow(cls, conn_id: str = CONN_ID) -> SmtpSettings:
        """From ``AIRFLOW_CONN_SMTP_DEFAULT``, else Airflow's connection (inside a task)."""
        import os

        uri = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if uri:
            return cls.from_uri(uri)
        if "airflow.sdk" not in sys.modules:  # not inside Airflow: don't import it (slow)
            raise LookupError(
                f"SMTP connection {conn_id!r} is not configured (set AIRFLOW_CONN_{conn_id.upper()})"
            )
        try:
            from airflow.sdk import Connection

            c = Connection.get(conn_id)
        except Exception as exc:  # noqa: BLE001 - any failure means "not configured"
            raise LookupError(
                f"SMTP connection {conn_id!r} is not configured "
                f"(set AIRFLOW_CONN_{conn_id.upper()}): {type(exc).__name__}"
            ) from None
        return cls._build(c.host, c.port, c.login, c.password, c.extra_dejson or {})


# ------------------------------------------------------------------ sending


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    written: int = 0  # dry run: .eml files written
    in_doubt: int = 0  # left by a sender that died mid-SMTP; see resolve_in_doubt
    aborted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.aborted and self.in_doubt == 0

    def summary(self) -> str:
        s = f"sent {self.sent}, failed {self.failed}"
        if self.written:
            s += f", written {self.written} .eml"
        if self.in_doubt:
            s += (f", {self.in_doubt} in doubt (a sender died mid-SMTP: check their Message-ID"
                  " in the mail server log, then outbox.resolve_in_doubt)")  # fmt: skip
        if self.aborted:
            s += " (stopped: SMTP server unavailable; the rest stay pending)"
        return s

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise SendError(self.summary() + ("; " + self.errors[-1] if self.errors else ""))


class SendError(RuntimeError):
    """Some messages could not be delivered (they stay in the outbox for the next run)."""


class _Transient(Exception):
    pass


class _Permanent(Exception):
    pass


class _Sender:
    """One SMTP session reused across messages; reconnects after an error."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.use_ssl:
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.use_starttls:
                smtp.starttls(context=ssl.create_default_context())
        if s.login:
            smtp.login(s.login, s.password)
        return smtp

    def send(self, from_addr: str, to_addrs: list[str], body: bytes) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.sendmail(from_addr, to_addrs, body)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _Permanent(f"all recipients refused: {_codes(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            msg = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 535):
                raise _Permanent(msg) from None
            raise _Transient(msg) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        if refused:
            # Accepted for some recipients: the message went out; record who was refused.
            log.warning("some recipients refused: %s", _codes(refused))

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _codes(d: dict) -> str:
    return ", ".join(f"{k}: {v[0]}" for k, v in d.items())


def send_pending(
    conn: psycopg.Connection,
    smtp: SmtpSettings | None = None,
    dry_run_dir: Path | str | None = None,
    *,
    kinds: list[str] | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    max_attempts: int = MAX_ATTEMPTS,
) -> SendReport:
    """Send every pending message once. See the module docstring for the guarantees."""
    report = SendReport()
    if not conn.autocommit:
        conn.commit()  # the caller's enqueues become visible and durable first
    if dry_run_dir is not None:
        return _dry_run(conn, Path(dry_run_dir), kinds, report)
    settings = smtp or SmtpSettings.from_airflow()
    sender = _Sender(settings)
    log.info("sending pending e-mail through %s", settings.describe())
    report.in_doubt = _mark_in_doubt(conn, kinds)
    last_id = 0
    try:
        while True:
            with conn.transaction():
                row = _claim_next(conn, last_id, max_attempts, kinds)
                if row is None:
                    break
                oid, kind, rcpt, cc, body, _attempts = row
                last_id = oid
                # committed before SMTP: a crash from here on is seen as 'in doubt', not resent
                conn.execute(
                    "update ops.email_outbox set status = 'sending', updated_at = now()"
                    " where id = %s",
                    (oid,),
                )
                conn.execute("select pg_advisory_lock(%s, %s)", (SENDING_LOCK, _lock_key(oid)))
            error, transient, tries = _send_with_retries(
                sender, settings.from_email, [rcpt, *(cc or [])], bytes(body), retries, backoff
            )
            with conn.transaction():
                conn.execute("select pg_advisory_unlock(%s, %s)", (SENDING_LOCK, _lock_key(oid)))
                if error is None:
                    conn.execute(
                        "update ops.email_outbox set status = 'sent', attempts = attempts + %s,"
                        " last_error = null, sent_at = now(), updated_at = now() where id = %s",
                        (tries, oid),
                    )
                    report.sent += 1
                    continue
                conn.execute(
                    "update ops.email_outbox set status = 'failed', attempts = attempts + %s,"
                    " last_error = %s, updated_at = now() where id = %s",
                    (tries, error[:1000], oid),
                )
                report.failed += 1
                report.errors.append(f"outbox #{oid} ({kind}): {error}")
                log.error("outbox #%s (%s) not sent: %s", oid, kind, error)
            if transient:
                report.aborted = True  # the server is down: stop, the rest stay pending
                break
    finally:
        sender.close()
    log.info("outbox: %s", report.summary())
    return report


def _lock_key(oid: int) -> int:
    return oid % 2_147_483_647


def _mark_in_doubt(conn, kinds: list[str] | None) -> int:
    """Mark rows left in ``sending`` by a sender that is gone (its advisory lock is free)."""
    with conn.transaction():
        rows = conn.execute(
            "select id, message_id from ops.email_outbox where status = 'sending'"
            " and (%s::text[] is null or kind = any(%s)) order by id for update skip locked",
            (kinds or None, kinds or None),
        ).fetchall()
        for oid, message_id in rows:
            key = (SENDING_LOCK, _lock_key(oid))
            if not conn.execute("select pg_try_advisory_lock(%s, %s)", key).fetchone()[0]:
                continue  # a live sender is on it
            conn.execute("select pg_advisory_unlock(%s, %s)", key)
            conn.execute(
                "update ops.email_outbox set status = 'in_doubt', updated_at = now(),"
                " last_error = %s where id = %s",
                (f"sender stopped during SMTP; delivered only if the mail server accepted "
                 f"Message-ID {message_id}", oid),
            )  # fmt: skip
            log.error("outbox #%s is in doubt: check Message-ID %s", oid, message_id)
    return conn.execute(  # new and earlier ones: each run reports them until settled
        "select count(*) from ops.email_outbox where status = 'in_doubt'"
        " and (%s::text[] is null or kind = any(%s))",
        (kinds or None, kinds or None),
    ).fetchone()[0]


def resolve_in_doubt(conn: psycopg.Connection, delivered_message_ids) -> dict[str, int]:
    """Settle ``in_doubt`` rows: Message-ID accepted by the server -> ``sent``, else ``pending``.

    ``delivered_message_ids``: the Message-IDs the mail server logged as accepted (e.g. from
    its log, or the .eml files of the local catcher)."""
    ids = list({str(m).strip() for m in delivered_message_ids})
    with conn.transaction():
        sent = conn.execute(
            "update ops.email_outbox set status = 'sent', sent_at = coalesce(sent_at, now()),"
            " last_error = null, updated_at = now()"
            " where status = 'in_doubt' and message_id = any(%s)",
            (ids,),
        ).rowcount
        pending = conn.execute(
            "update ops.email_outbox set status = 'pending', updated_at = now()"
            " where status = 'in_doubt'"
        ).rowcount
    return {"sent": sent, "pending": pending}


def _claim_next(conn, after_id: int, max_attempts: int, kinds: list[str] | None):
    """The next sendable row, locked for this run (a concurrent run skips it)."""
    return conn.execute(
        """
        select id, kind, recipient_email, cc, body, attempts
        from ops.email_outbox
        where status in ('pending', 'failed') and attempts < %s and id > %s
          and body is not null and (%s::text[] is null or kind = any(%s))
        order by id
        limit 1
        for update skip locked
        """,
        (max_attempts, after_id, kinds or None, kinds or None),
    ).fetchone()


def _send_with_retries(sender, from_addr, to_addrs, body, retries, backoff):
    """(None, False, tries) when accepted; else (error, transient, tries)."""
    for attempt in range(retries + 1):
        try:
            sender.send(from_addr, to_addrs, body)
            return None, False, attempt + 1
        except _Permanent as exc:
            return str(exc), False, attempt + 1
        except _Transient as exc:
            if attempt == retries:
                return f"{exc} (after {retries + 1} tries)", True, attempt + 1
            delay = backoff * (2**attempt)
            log.warning("SMTP error (%s); retry %d/%d in %.1fs", exc, attempt + 1, retries, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _dry_run(conn, folder: Path, kinds, report: SendReport) -> SendReport:
    folder.mkdir(parents=True, exist_ok=True)
    q = (
        "select id, kind, recipient_id, body from ops.email_outbox"
        " where status in ('pending', 'failed') and body is not null"
    )
    args: list = []
    if kinds:
        q += " and kind = any(%s)"
        args.append(list(kinds))
    for oid, kind, rid, body in conn.execute(q + " order by id", args).fetchall():
        path = folder / f"{oid:06d}-{safe_name(kind)}-{safe_name(rid)}.eml"
        path.write_bytes(bytes(body))
        conn.execute(
            "update ops.email_outbox set eml_path = %s, updated_at = now() where id = %s",
            (str(path), oid),
        )
        report.written += 1
    if not conn.autocommit:
        conn.commit()
    return report


def safe_name(value) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value))[:60] or "x"


def status_counts(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    return {
        (k, s): n
        for k, s, n in conn.execute(
            "select kind, status, count(*) from ops.email_outbox group by 1, 2 order by 1, 2"
        )
    }


__all__ = [
    "SendError",
    "SendReport",
    "SmtpSettings",
    "address",
    "clean_header",
    "enqueue",
    "new_message",
    "resolve_in_doubt",
    "send_pending",
]
