"""Shared fixtures: a real PostgreSQL for every test.

The server is ``WAREHOUSE_URL`` when set (CI points it at the machine's PostgreSQL), else
the embedded PostgreSQL. Each test session works in databases of its own, created here and
dropped at the end, so tests never touch a developer's demo data.
"""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

from salesperf import warehouse as wh  # noqa: E402
from salesperf.landing.migrations import migrate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SALESPERF_SHARED_DATA", REPO.parent / "shared" / "data"))
_RUN = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def server() -> wh.Warehouse:
    """The PostgreSQL server under test (its default database)."""
    return wh.resolve()


@pytest.fixture(scope="session")
def _created_dbs(server):
    names: list[str] = []
    yield names
    if os.environ.get("SALESPERF_KEEP_TEST_DBS"):
        return
    for name in names:
        try:
            wh.drop_database(server, name)
        except wh.WarehouseError:
            pass


@pytest.fixture
def make_db(server, _created_dbs, request):
    """Factory: a new empty database with migrations applied; returns its Warehouse."""

    def _make(label: str = "", migrated: bool = True) -> wh.Warehouse:
        base = (label or request.node.name).lower()
        safe = "".join(ch if ch.isalnum() else "_" for ch in base)[:30]
        name = f"sp_{_RUN}_{safe}_{uuid.uuid4().hex[:6]}"
        db = wh.create_database(server, name)
        _created_dbs.append(name)
        if migrated:
            with wh.connect(db) as conn:
                migrate(conn)
        return db

    return _make


@pytest.fixture
def warehouse_db(make_db, monkeypatch) -> wh.Warehouse:
    """A fresh migrated database, also exported as WAREHOUSE_URL for code under test."""
    db = make_db()
    for key, value in db.env().items():
        monkeypatch.setenv(key, value)
    return db


@pytest.fixture
def conn(warehouse_db):
    with wh.connect(warehouse_db, autocommit=True) as c:
        yield c


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "maven_crm").is_dir():
        pytest.fail(f"shared data sets not found at {SHARED_DATA}; set SALESPERF_SHARED_DATA")
    return SHARED_DATA
