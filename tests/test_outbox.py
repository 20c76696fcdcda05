"""The e-mail outbox against a real PostgreSQL and a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.headerregistry
import email.policy
import re

import pytest

from salesperf import airflow_env
from salesperf.mailcatcher import MailCatcher, free_port
from salesperf.reports import outbox


def _msg(i: int, cc: bool = False) -> outbox.EmailMessage:
    msg = outbox.new_message(
        subject=f"Report {i}",
        to=outbox.address(f"Rep {i}", f"rep{i}@example.com"),
        cc=[outbox.address("Boss", "boss@example.com")] if cc else None,
        from_addr="reports@salesperf.local",
    )
    msg.set_content(f"hello {i}")
    msg.add_alternative(f"<p>hello {i}</p>", subtype="html")
    return msg


def _enqueue(conn, n: int, kind: str = "monthly_appraisal") -> None:
    for i in range(n):
        assert outbox.enqueue(
            conn, kind, f"r{i}", f"rep{i}@example.com", "2026-10", f"Report {i}", _msg(i, cc=i == 0)
        )


def _settings(mc_or_port) -> outbox.SmtpSettings:
    port = mc_or_port if isinstance(mc_or_port, int) else mc_or_port.port
    return outbox.SmtpSettings.from_uri(
        f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true&from_email=reports%40x.test"
    )


def _statuses(conn) -> dict[str, int]:
    return dict(conn.execute("select status, count(*) from ops.email_outbox group by 1"))


def test_enqueue_is_idempotent_per_key(conn):
    assert outbox.enqueue(conn, "reward", "r1", "a@x.test", "2026-10", "s", _msg(1), key_extra=7)
    assert not outbox.enqueue(conn, "reward", "r1", "a@x.test", "2026-10", "s", _msg(1), 7)
    assert outbox.enqueue(conn, "reward", "r1", "a@x.test", "2026-10", "s", _msg(1), key_extra=8)
    keys = [r[0] for r in conn.execute("select idempotency_key from ops.email_outbox order by id")]
    assert keys == ["reward|r1|2026-10|7", "reward|r1|2026-10|8"]


def test_a_prepared_message_is_stored_as_the_message_itself_would_be(conn):
    """Render workers hand back prepared messages (headers stamped, bytes made): the outbox
    stores exactly what enqueueing the message object stores."""
    direct, prepared = _msg(1, cc=True), _msg(1, cc=True)
    ready = outbox.prepare(prepared, "reward")
    assert ready.message_id == str(prepared["Message-ID"]) and ready.cc
    assert outbox.enqueue(conn, "reward", "r1", "a@x.test", "2026-10", "s", direct)
    assert outbox.enqueue(conn, "reward", "r2", "a@x.test", "2026-10", "s", ready)
    rows = conn.execute(
        "select recipient_id, cc, body, message_id from ops.email_outbox order by recipient_id"
    ).fetchall()
    assert rows[0][1] == rows[1][1] == ready.cc
    assert rows[1][2] == ready.body and rows[1][3] == ready.message_id

    def shape(body: bytes) -> list:  # headers and parts, without the random ids and boundaries
        msg = email.message_from_bytes(bytes(body), policy=email.policy.default)
        headers = [(k, str(v)) for k, v in msg.items() if k not in ("Message-ID", "Content-Type")]
        return headers + [(p.get_content_type(), p.get_content()) for p in msg.iter_parts()]

    assert shape(rows[0][2]) == shape(rows[1][2])
    assert ("X-Salesperf-Kind", "reward") in shape(ready.body)


def test_send_delivers_once_with_recipients_and_message_id(conn, tmp_path):
    _enqueue(conn, 3)
    with MailCatcher(tmp_path / "mail") as mc:
        report = outbox.send_pending(conn, _settings(mc), backoff=0.01)
        again = outbox.send_pending(conn, _settings(mc), backoff=0.01)
        msgs = mc.messages()
    assert (report.sent, report.failed, report.ok) == (3, 0, True)
    assert again.sent == 0
    assert len(msgs) == 3
    first = next(m for m in msgs if m["Subject"] == "Report 0")
    assert first["X-Envelope-To"] == "rep0@example.com, boss@example.com"
    assert first["X-Envelope-From"] == "reports@x.test"
    stored = dict(conn.execute("select subject, message_id from ops.email_outbox"))
    assert {m["Message-ID"] for m in msgs} == set(stored.values())
    assert _statuses(conn) == {"sent": 3}


def test_smtp_down_retries_then_fails_visibly_and_resumes(conn, tmp_path):
    _enqueue(conn, 4)
    with MailCatcher(tmp_path / "mail") as mc:
        mc.fail.set()  # the server answers 451 to every message
        down = outbox.send_pending(conn, _settings(mc), retries=2, backoff=0.01)
        assert mc.messages() == []
        row = conn.execute(
            "select status, attempts, last_error from ops.email_outbox order by id limit 1"
        ).fetchone()
        statuses_while_down = _statuses(conn)
        mc.fail.clear()
        up = outbox.send_pending(conn, _settings(mc), retries=2, backoff=0.01)
        rerun = outbox.send_pending(conn, _settings(mc), retries=2, backoff=0.01)
        delivered = sorted(m["Subject"] for m in mc.messages())
    assert down.aborted and not down.ok and down.sent == 0
    assert row[0] == "failed" and row[1] == 3 and "451" in row[2]
    assert statuses_while_down == {"failed": 1, "pending": 3}
    with pytest.raises(outbox.SendError, match="SMTP server unavailable"):
        down.raise_for_failures()
    assert (up.sent, rerun.sent) == (4, 0)
    assert delivered == [f"Report {i}" for i in range(4)]


def test_nothing_listening_marks_nothing_sent(conn):
    _enqueue(conn, 2)
    report = outbox.send_pending(conn, _settings(free_port()), retries=1, backoff=0.01)
    assert report.aborted and report.sent == 0
    assert "ConnectionRefusedError" in report.errors[0]
    assert _statuses(conn) == {"failed": 1, "pending": 1}


def test_dry_run_writes_eml_and_changes_no_status(conn, tmp_path):
    _enqueue(conn, 2)
    report = outbox.send_pending(conn, dry_run_dir=tmp_path / "eml")
    files = sorted((tmp_path / "eml").glob("*.eml"))
    assert report.written == 2 and len(files) == 2
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Report 0"
    assert _statuses(conn) == {"pending": 2}


def test_header_injection_from_names_is_neutralised():
    evil = "Eve\r\nBcc: victim@evil.test\nX-Injected: 1"
    msg = outbox.new_message(
        subject="Hi\r\nBcc: victim@evil.test", to=outbox.address(evil, "eve@example.com")
    )
    msg.set_content("x")
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eve@example.com"]
    with pytest.raises(ValueError, match="invalid e-mail address"):
        outbox.address("x", "a@b.test\r\nBcc: c@d.test")


def test_smtp_settings_from_airflow_uri_hide_password(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", airflow_env.smtp_conn_uri())
    s = outbox.SmtpSettings.from_airflow()
    assert (s.use_ssl, s.use_starttls, s.from_email) == (False, False, "reports@salesperf.local")
    secret = outbox.SmtpSettings.from_uri("smtp://user:s3cr%40t@mail.test:587?disable_ssl=true")
    assert (secret.password, secret.port, secret.use_starttls) == ("s3cr@t", 587, True)
    assert "s3cr" not in repr(secret) and "s3cr" not in secret.describe()


def _full_message(policy) -> bytes:
    """A report-shaped message (non-ASCII, long headers, every part kind) as bytes."""
    msg = outbox.EmailMessage(policy=policy)
    msg["Subject"] = "2026年10月 团队月度报告 · North China Team 3 " * 3
    msg["From"] = "reports@salesperf.local"
    msg["To"] = [outbox.address("张三", "zhang@example.com")]
    msg["Cc"] = [outbox.address(f"Manager {i}", f"m{i}@example.com") for i in range(6)]
    msg["Message-ID"] = "<fixed@salesperf.local>"
    msg.set_content("你好\n" + "plain line\n" * 40)
    msg.add_alternative("<p>" + "你好 html " * 400 + "</p>", subtype="html")
    msg.get_payload()[1].add_related(
        b"\x89PNG" + bytes(range(256)) * 40, "image", "png", cid="<c@x>"
    )
    msg.add_attachment(b"PK" * 3000, "application", "zip", filename="团队.xlsx")
    body = msg.as_bytes(policy=policy)
    return re.sub(rb"=+_?\d+==", b"BOUNDARY", body)


def test_the_outbox_policy_writes_what_the_standard_smtp_policy_writes():
    """Header classes are made once per name (the standard registry makes one per header
    parsed); the bytes of a message do not change."""
    assert _full_message(outbox.SMTP_POLICY) == _full_message(email.policy.SMTP)
    registry = outbox.SMTP_POLICY.header_factory
    assert registry["Subject"] is registry["subject"]
    assert (
        email.policy.SMTP.header_factory["Subject"]
        is not email.policy.SMTP.header_factory["Subject"]
    )


def test_a_header_mapped_to_another_type_is_not_served_from_the_cache():
    registry = outbox.HeaderClasses()
    assert issubclass(registry["X-Kind"], email.headerregistry.UnstructuredHeader)
    registry.map_to_type("X-Kind", email.headerregistry.AddressHeader)
    assert issubclass(registry["X-Kind"], email.headerregistry.AddressHeader)
