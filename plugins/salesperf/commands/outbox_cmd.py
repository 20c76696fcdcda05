"""`salesperf outbox status|resolve-in-doubt`: look at the email outbox, settle rows in doubt.

A row is ``in_doubt`` when its sender died during the SMTP transaction (see
``salesperf.reports.outbox``). ``resolve-in-doubt --delivered PATH`` marks those the mail
server accepted as ``sent`` and puts the others back to ``pending`` (sent by the next run).
PATH is a folder of ``.eml`` files (e.g. the local mail catcher's folder or a server-side
archive) or a text file holding the accepted Message-IDs (e.g. grepped from the relay log).
"""

from __future__ import annotations

import re
from pathlib import Path

_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def register(sub) -> None:
    p = sub.add_parser("outbox", help="email outbox: status, or settle rows left in doubt")
    p.add_argument("action", choices=["status", "resolve-in-doubt"])
    p.add_argument(
        "--delivered",
        default=None,
        help="folder of .eml files, or a file with the Message-IDs the mail server accepted",
    )
    p.set_defaults(func=_outbox)


def delivered_message_ids(path: Path) -> set[str]:
    """Message-IDs from a folder of .eml files or from any text (one or more per line)."""
    if path.is_dir():
        from salesperf.mailcatcher import read_messages

        return {str(m["Message-ID"]).strip() for m in read_messages(path) if m["Message-ID"]}
    return set(_MSGID.findall(path.read_text(encoding="utf-8", errors="replace")))


def _outbox(args) -> int:
    from salesperf import warehouse
    from salesperf.cli import UserError
    from salesperf.landing.migrations import migrate
    from salesperf.reports import outbox

    with warehouse.connect(warehouse.resolve(), autocommit=True) as conn:
        migrate(conn)
        if args.action == "resolve-in-doubt":
            if not args.delivered:
                raise UserError("resolve-in-doubt needs --delivered PATH (folder of .eml or ids)")
            path = Path(args.delivered)
            if not path.exists():
                raise UserError(f"--delivered: {path} does not exist")
            done = outbox.resolve_in_doubt(conn, delivered_message_ids(path))
            print(f"in doubt: {done['sent']} marked sent, {done['pending']} back to pending")
        for (kind, status), n in outbox.status_counts(conn).items():
            print(f"{kind:<20} {status:<9} {n:>7}")
    return 0
