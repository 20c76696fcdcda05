"""A local SMTP catcher: a real SMTP server (aiosmtpd) on loopback that stores every
message it accepts as an ``.eml`` file.

Used by ``make demo`` (as a background process, ``salesperf mailcatcher start``) and by the
tests (in-process, :class:`MailCatcher`). It is a real server: clients talk SMTP to it over
TCP, so delivery code is exercised for real.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from salesperf import config

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025


class _Handler:
    def __init__(self, folder: Path, fail: threading.Event):
        self.folder = folder
        self.fail = fail
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        if self.fail.is_set():
            return "451 4.3.0 temporarily refusing mail (test fault)"
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:10]}.eml"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        envelope_header = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        tmp = path.with_suffix(".part")
        tmp.write_bytes(envelope_header + data)
        tmp.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


class MailCatcher:
    """An in-process SMTP catcher for tests: ``with MailCatcher(folder) as mc: ...``."""

    def __init__(self, folder: Path, host: str = DEFAULT_HOST, port: int = 0):
        from aiosmtpd.controller import Controller

        self.folder = Path(folder)
        self.fail = threading.Event()
        if port == 0:
            port = free_port(host)
        self.host, self.port = host, port
        self._controller = Controller(
            _Handler(self.folder, self.fail), hostname=host, port=port, ready_timeout=10
        )

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def messages(self) -> list[email.message.EmailMessage]:
        return read_messages(self.folder)


def read_messages(folder: Path) -> list[email.message.EmailMessage]:
    out = []
    for path in sorted(Path(folder).glob("*.eml")):
        with path.open("rb") as fh:
            out.append(email.message_from_binary_file(fh, policy=email.policy.default))
    return out


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- background daemon for demo


def _pidfile() -> Path:
    return config.LOCAL_DIR / "mailcatcher.pid"


def ensure_running(
    folder: Path | None = None, host: str = DEFAULT_HOST, port: int | None = None
) -> tuple[str, int, Path]:
    """Start the catcher as a detached process unless one already listens; idempotent."""
    folder = Path(folder or config.MAIL_DIR)
    port = port or int(os.environ.get("SALESPERF_SMTP_PORT", DEFAULT_PORT))
    if port_open(host, port):
        return host, port, folder
    config.LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    log = (config.LOCAL_DIR / "mailcatcher.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesperf.mailcatcher", str(folder), host, str(port)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _pidfile().write_text(str(proc.pid))
    for _ in range(100):
        if port_open(host, port):
            return host, port, folder
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"mail catcher did not start on {host}:{port}; see {log.name}")


def stop() -> bool:
    pidfile = _pidfile()
    if not pidfile.exists():
        return False
    try:
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        stopped = True
    except (ProcessLookupError, ValueError):
        stopped = False
    pidfile.unlink(missing_ok=True)
    return stopped


def _serve(folder: str, host: str, port: str) -> None:
    catcher = MailCatcher(Path(folder), host, int(port)).start()
    print(f"mail catcher listening on {host}:{port}, storing .eml files in {folder}", flush=True)
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: stop_event.set())
    stop_event.wait()
    catcher.stop()


if __name__ == "__main__":
    _serve(*sys.argv[1:4])
