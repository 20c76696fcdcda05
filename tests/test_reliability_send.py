"""Sending killed with SIGKILL, against a real SMTP server (aiosmtpd) on loopback.

`salesperf send --kind outbox` runs in a subprocess and is killed mid-way; the rerun must
deliver every message exactly once (counted by Message-ID in the caught .eml files).

SMTP has an inherent window: the server has taken the message, the sender dies before it
records that. The outbox marks a row ``sending`` (committed) before the SMTP transaction, so
a row caught in that window is never resent blindly: the next run reports it as
``in_doubt``, and :func:`outbox.resolve_in_doubt` settles it from the mail server's record of
accepted Message-IDs (here the catcher's folder). SMTP down / back-off / resume is covered by
``tests/test_outbox.py``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from salesperf.mailcatcher import MailCatcher, _Handler, read_messages
from salesperf.reports import outbox

SALESPERF = str(Path(sys.executable).with_name("salesperf"))


def _enqueue(conn, n: int) -> None:
    for i in range(n):
        msg = outbox.new_message(
            subject=f"Report {i}",
            to=outbox.address(f"Rep {i}", f"rep{i}@example.com"),
            from_addr="reports@salesperf.local",
        )
        msg.set_content(f"hello {i}")
        assert outbox.enqueue(conn, "monthly_appraisal", f"r{i}", f"rep{i}@example.com",
                              "2026-10", f"Report {i}", msg)  # fmt: skip


def _smtp_uri(port: int) -> str:
    return f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true&from_email=reports%40x.test"


def _start_sender(port: int) -> subprocess.Popen:
    env = {**os.environ, "AIRFLOW_CONN_SMTP_DEFAULT": _smtp_uri(port)}
    return subprocess.Popen(
        [SALESPERF, "send", "--kind", "outbox"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _delivered(folder: Path) -> Counter:
    return Counter(str(m["Message-ID"]) for m in read_messages(folder))


def _wait_until_sender_sessions_end(conn) -> None:
    """The killed client's server session ends a moment after the client: wait for it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held = conn.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and classid = %s",
            (outbox.SENDING_LOCK,),
        ).fetchone()[0]
        if held == 0:
            return
        time.sleep(0.05)
    raise AssertionError("a sender's session still holds its lock")


def _settle_and_finish(
    conn, folder: Path, port: int, cli: bool = False
) -> tuple[outbox.SendReport, dict | str]:
    """What an operator does after a crash: rerun, settle in-doubt rows from the server's
    log of accepted Message-IDs (through the API or `salesperf outbox`), rerun."""
    _wait_until_sender_sessions_end(conn)
    settings = outbox.SmtpSettings.from_uri(_smtp_uri(port))
    first = outbox.send_pending(conn, settings, backoff=0.01)
    if cli:
        settled = subprocess.run(
            [SALESPERF, "outbox", "resolve-in-doubt", "--delivered", str(folder)],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
    else:
        settled = outbox.resolve_in_doubt(conn, _delivered(folder).keys())
    second = outbox.send_pending(conn, settings, backoff=0.01)
    assert second.ok and second.in_doubt == 0
    return first, settled


def _assert_each_row_delivered_once(conn, folder: Path, n: int) -> None:
    stored = dict(conn.execute("select message_id, status from ops.email_outbox"))
    delivered = _delivered(folder)
    assert len(stored) == n
    assert set(stored.values()) == {"sent"}
    assert set(delivered) == set(stored)
    assert max(delivered.values()) == 1, delivered.most_common(3)


class _KillAfterNth(_Handler):
    """Accepts messages like the catcher; after storing the n-th one it SIGKILLs the sender
    before the 250 reply goes out: the server has the message, the sender never learns it,
    i.e. inside the sender's window of doubt. (Killing *after* the reply raced: under load the
    sender sometimes recorded 'sent' first.)"""

    def __init__(self, folder: Path, n: int):
        import threading

        super().__init__(folder, threading.Event())
        self.n, self.count, self.victim = n, 0, None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        status = await super().handle_DATA(server, session, envelope)
        self.count += 1
        if self.count == self.n and self.victim:
            os.kill(self.victim, signal.SIGKILL)
        return status


def test_killed_right_after_the_server_accepted_sends_nothing_twice(conn, tmp_path):
    from aiosmtpd.controller import Controller

    from salesperf.mailcatcher import free_port

    n, kill_at = 12, 5
    _enqueue(conn, n)
    folder = tmp_path / "mail"
    handler = _KillAfterNth(folder, kill_at)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        proc = _start_sender(port)
        handler.victim = proc.pid
        out = proc.communicate(timeout=120)[0].decode(errors="replace")
        assert proc.returncode == -signal.SIGKILL, out
        assert len(read_messages(folder)) == kill_at
        statuses = dict(conn.execute("select status, count(*) from ops.email_outbox group by 1"))
        assert statuses == {"sent": kill_at - 1, "sending": 1, "pending": n - kill_at}
        handler.victim = None
        first, settled = _settle_and_finish(conn, folder, port)
    finally:
        controller.stop()
    # the rerun sends the rest but not the message in doubt, and says so
    assert (first.sent, first.in_doubt, first.ok) == (n - kill_at, 1, False)
    assert "in doubt" in first.summary()
    assert settled == {"sent": 1, "pending": 0}
    _assert_each_row_delivered_once(conn, folder, n)


@pytest.mark.slow
def test_killed_at_a_random_moment_every_email_arrives_exactly_once(conn, tmp_path):
    n = 400
    _enqueue(conn, n)
    folder = tmp_path / "mail"
    with MailCatcher(folder) as mc:
        proc = _start_sender(mc.port)
        deadline = time.monotonic() + 120
        while len(list(folder.glob("*.eml"))) < n // 8 and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the sender finished before it was killed"
        caught_before = len(list(folder.glob("*.eml")))
        assert 0 < caught_before < n
        first, settled = _settle_and_finish(conn, folder, mc.port, cli=True)
    assert first.in_doubt <= 1  # one sender, one message at a time in the window
    m = re.search(r"in doubt: (\d+) marked sent, (\d+) back to pending", settled)
    assert m and int(m[1]) + int(m[2]) == first.in_doubt, settled
    _assert_each_row_delivered_once(conn, folder, n)


def test_a_live_sender_is_not_taken_for_a_dead_one(conn, warehouse_db):
    """A row another live process is sending stays 'sending' (not in doubt) for this run."""
    from salesperf import warehouse as wh

    _enqueue(conn, 1)
    (oid,) = conn.execute("select id from ops.email_outbox").fetchone()
    conn.execute("update ops.email_outbox set status = 'sending' where id = %s", (oid,))
    with wh.connect(warehouse_db, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s, %s)", (outbox.SENDING_LOCK, oid))
        report = outbox.send_pending(conn, outbox.SmtpSettings.from_uri(_smtp_uri(1)))
        assert report.in_doubt == 0 and report.sent == 0
        assert conn.execute("select status from ops.email_outbox").fetchone()[0] == "sending"
    report = outbox.send_pending(conn, outbox.SmtpSettings.from_uri(_smtp_uri(1)))
    assert report.in_doubt == 1 and not report.ok
    row = conn.execute("select status, last_error from ops.email_outbox").fetchone()
    assert row[0] == "in_doubt" and "Message-ID" in row[1]
