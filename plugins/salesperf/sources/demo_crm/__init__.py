"""The demo CRM: a deterministic, realistic CRM database next to the warehouse.

It lives in its own database on the warehouse's server, ``<warehouse db>_democrm`` (or
``DEMO_CRM_URL``), in schema ``crm``. :func:`create` builds it for a size and seed;
:func:`advance` moves it forward by days (new deals, stage changes, late edits, deletes).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import date

from salesperf import warehouse as wh
from salesperf.sources.demo_crm.generator import DEFAULT_AS_OF, SIZES, generate

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_AS_OF", "SIZES", "advance", "create", "crm_warehouse", "url"]


def crm_warehouse(warehouse: wh.Warehouse | None = None) -> wh.Warehouse:
    """Where the demo CRM lives: ``DEMO_CRM_URL`` or ``<warehouse db>_democrm``."""
    env = os.environ.get("DEMO_CRM_URL")
    if env:
        return wh.Warehouse(wh._normalise(env), "DEMO_CRM_URL")
    base = warehouse or wh.resolve()
    return base.with_database(f"{base.dbname}_democrm")


def url(warehouse: wh.Warehouse | None = None) -> str:
    return crm_warehouse(warehouse).url


def create(
    size: str = "small",
    seed: int = 42,
    warehouse: wh.Warehouse | None = None,
    as_of: date = DEFAULT_AS_OF,
) -> str:
    """(Re)create the demo CRM for ``size`` and ``seed``; returns its URL."""
    if size not in SIZES:
        raise ValueError(f"unknown demo CRM size {size!r}; choose from {', '.join(SIZES)}")
    target = crm_warehouse(warehouse)
    if target.origin != "DEMO_CRM_URL":
        wh.create_database(warehouse or wh.resolve(), target.dbname)
    with wh.connect(target, autocommit=True) as conn:
        # dropping the schema, not the database: no checkpoint wait on a busy server
        conn.execute("drop schema if exists crm cascade")
    started = time.monotonic()
    with wh.connect(target) as conn:
        counts = generate(conn, SIZES[size], seed, as_of)
    log.info(
        "demo CRM %s (seed %s) created at %s in %.1fs: %s",
        size, seed, target.describe(), time.monotonic() - started,
        ", ".join(f"{t}={n}" for t, n in counts.items()),
    )  # fmt: skip
    return target.url


def advance(days: int = 1, warehouse: wh.Warehouse | None = None) -> dict[str, int]:
    """Move the demo CRM forward by ``days``; returns what changed."""
    from salesperf.sources.demo_crm.daily import advance_days

    target = crm_warehouse(warehouse)
    with wh.connect(target) as conn:
        return advance_days(conn, days)
