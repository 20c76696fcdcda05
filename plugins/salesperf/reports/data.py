"""Reading the marts for reports: each report kind queries its marts once per run.

Nothing here renders; the builders in :mod:`salesperf.reports.kinds` group these rows by
recipient and hand each recipient only their own rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import psycopg
from psycopg import sql
from psycopg.rows import dict_row


class MissingMartError(RuntimeError):
    """A report needs a mart that has not been built (yet)."""


class NotValidatedError(RuntimeError):
    """The latest validation of the marts failed (or never ran): no report goes out."""


def existing_relations(conn: psycopg.Connection) -> set[str]:
    return {
        f"{s}.{t}"
        for s, t in conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'staging')"
        )
    }


def require(conn: psycopg.Connection, kind: str, relations: list[str]) -> None:
    """Raise MissingMartError naming every relation ``kind`` needs but cannot find."""
    have = existing_relations(conn)
    missing = [r if "." in r else f"marts.{r}" for r in relations]
    missing = [r for r in missing if r not in have]
    if missing:
        raise MissingMartError(
            f"cannot build the {kind} emails: missing {', '.join(missing)} "
            "(build the marts first: salesperf transform)"
        )


def columns(conn: psycopg.Connection, relation: str) -> list[str]:
    schema, _, name = relation.rpartition(".")
    return [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s "
            "and table_name = %s order by ordinal_position",
            (schema or "marts", name),
        )
    ]


def require_validated(conn: psycopg.Connection) -> None:
    """Every suite of the latest marts validation run (ops.validation_runs) must have passed."""
    rows = conn.execute(
        """
        select suite, success from ops.validation_runs
        where layer in ('marts', 'mart') and run_id = (
            select run_id from ops.validation_runs where layer in ('marts', 'mart')
            order by started_at desc, id desc limit 1)
        """
    ).fetchall()
    if not rows:
        raise NotValidatedError("no validation of the marts recorded; run the validation first")
    failed = sorted(s for s, ok in rows if not ok)
    if failed:
        raise NotValidatedError(
            f"latest marts validation failed ({', '.join(failed)}); reports are blocked"
        )


def fetch(conn: psycopg.Connection, query: str | sql.Composable, args=()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, args)
        return cur.fetchall()


def group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[str(r[key])].append(r)
    return out


# ------------------------------------------------------------------ periods


def month_start(period: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-\d{2})?", period.strip())
    if not m:
        raise ValueError(f"period must look like YYYY-MM, got {period!r}")
    return dt.date(int(m[1]), int(m[2]), 1)


def quarter_start(period: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-?Q([1-4])", period.strip(), flags=re.I)
    if m:
        return dt.date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
    d = month_start(period)
    return dt.date(d.year, (d.month - 1) // 3 * 3 + 1, 1)


def week_start(period: str) -> dt.date:
    p = period.strip()
    m = re.fullmatch(r"(\d{4})-?W(\d{2})", p, flags=re.I)
    if m:
        return dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    try:
        d = dt.date.fromisoformat(p)
    except ValueError:
        raise ValueError(f"week must look like YYYY-MM-DD or YYYY-Www, got {period!r}") from None
    return d - dt.timedelta(days=d.weekday())


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def month_label(d: dt.date) -> str:
    return f"{d.year}-{d.month:02d}"


def quarter_label(d: dt.date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
