"""``ops.validation_runs``: one row per suite per run, and what the next run learns from it."""

from __future__ import annotations

import json
import math
import os
from functools import partial

import psycopg
from psycopg.types.json import Jsonb

# Live rows of a landing table may shrink to half or grow tenfold between two runs; beyond
# that something went wrong upstream (a truncated export, a duplicated feed).
MIN_RATIO = float(os.environ.get("SALESPERF_DQ_ROWCOUNT_MIN_RATIO", "0.5"))
MAX_RATIO = float(os.environ.get("SALESPERF_DQ_ROWCOUNT_MAX_RATIO", "10"))
SLACK_ROWS = int(os.environ.get("SALESPERF_DQ_ROWCOUNT_SLACK", "100"))


def previous_row_count(conn: psycopg.Connection, suite: str) -> int | None:
    """Row count seen by the last successful run of ``suite`` (None: no history)."""
    row = conn.execute(
        "select (details->>'row_count')::bigint from ops.validation_runs"
        " where suite = %s and success and details ? 'row_count'"
        " order by finished_at desc nulls last, id desc limit 1",
        (suite,),
    ).fetchone()
    return None if row is None else row[0]


def last_run(conn: psycopg.Connection, suite: str) -> tuple[bool, dict] | None:
    """(success, details) of the latest recorded run of ``suite`` (None: never run)."""
    return conn.execute(
        "select success, details from ops.validation_runs where suite = %s"
        " order by finished_at desc nulls last, id desc limit 1",
        (suite,),
    ).fetchone()


def row_count_bounds(previous: int | None) -> tuple[int, int | None]:
    """(min, max) for the live row count given the previous one; no bound without history."""
    if not previous:
        return 0, None
    low = math.floor(previous * MIN_RATIO)
    high = math.ceil(previous * MAX_RATIO) + SLACK_ROWS
    return low, high


def record(conn: psycopg.Connection, run_id: str, layer: str, result) -> int:
    """Insert one suite result; returns its id."""
    dumps = partial(json.dumps, default=str, ensure_ascii=False)
    row = conn.execute(
        """
        insert into ops.validation_runs
            (run_id, suite, layer, success, evaluated, successful, failed,
             started_at, finished_at, data_docs, details)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning id
        """,
        (
            run_id,
            result.suite,
            layer,
            result.success,
            result.evaluated,
            result.successful,
            result.failed,
            result.started_at,
            result.finished_at,
            result.data_docs,
            Jsonb(result.details, dumps=dumps),
        ),
    ).fetchone()
    return row[0]
