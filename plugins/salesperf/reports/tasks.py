"""What the report DAGs' tasks call (kept here so the DAG files stay thin and testable)."""

from __future__ import annotations

import datetime as dt
import logging

import pendulum

from salesperf import config
from salesperf.reports import data

log = logging.getLogger(__name__)


def _local(logical_date) -> dt.date:
    return pendulum.instance(logical_date).in_timezone(config.company_timezone()).date()


def previous_month(logical_date) -> str:
    """The month before the run's logical date (company time), e.g. run 2026-11-01 -> 2026-10."""
    return data.month_label(data.add_months(_local(logical_date).replace(day=1), -1))


def previous_week(logical_date) -> str:
    """Monday of the week before the run's logical date (company time)."""
    d = _local(logical_date)
    return (d - dt.timedelta(days=d.weekday() + 7)).isoformat()


def previous_quarter(logical_date) -> str:
    d = _local(logical_date)
    q = data.quarter_start(data.month_label(d))
    return data.quarter_label(data.add_months(q, -3))


def enqueue(kind: str, period: str | None) -> dict:
    """Build and queue the messages of ``kind`` (only from validated marts); sends nothing."""
    from salesperf import warehouse
    from salesperf.landing.migrations import migrate
    from salesperf.reports.run import run

    with warehouse.connect(warehouse.resolve(), autocommit=True) as conn:
        migrate(conn)
        result = run(conn, kind, period, require_validation=True, send=False)
    log.info("%s", result.summary())
    return {"kind": kind, "period": period, "built": result.built, "queued": result.enqueued}


def deliver(kind: str) -> dict:
    """Send the pending messages of ``kind``; raises (so Airflow retries) if any failed."""
    from salesperf import warehouse
    from salesperf.reports import outbox

    with warehouse.connect(warehouse.resolve(), autocommit=True) as conn:
        report = outbox.send_pending(conn, outbox.SmtpSettings.from_airflow(), kinds=[kind])
    log.info("%s: %s", kind, report.summary())
    report.raise_for_failures()
    return {"kind": kind, "sent": report.sent}
