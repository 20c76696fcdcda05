"""A schema change in the CRM database (issue 9, item 5), for the database source.

A new source column is kept in ``_extra`` and reported; a removed required column stops
that entity with a clear error and loads nothing of it. (The file source's behaviour is in
test_file_import.py.)"""

from __future__ import annotations

import logging

import pytest
from test_crm_extract import assert_landing_equals_source

from salesperf import extract
from salesperf import warehouse as wh
from salesperf.sources import demo_crm
from salesperf.sources.crm_db import SourceSchemaError


@pytest.fixture
def crm(warehouse_db, monkeypatch):
    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("tiny", seed=3, warehouse=warehouse_db)
    extract.run_extract("demo_crm", warehouse=warehouse_db)
    return warehouse_db


def _snapshot(conn, entity: str):
    return conn.execute(
        f"select md5(string_agg(t::text, '|' order by id)), count(*) from raw.{entity} t"  # noqa: S608
    ).fetchone()


def test_new_source_column_is_kept_in_extra_and_reported(crm, conn, caplog):
    with wh.connect(crm, autocommit=True) as src:
        src.execute("alter table crm.opportunities add column fax_number text")
        src.execute(
            "update crm.opportunities set fax_number = '+86 10 1234', updated_at = "
            "(select max(updated_at) from crm.opportunities) + interval '1 minute' "
            "where id in (select id from crm.opportunities order by id limit 3)"
        )
    with caplog.at_level(logging.WARNING, logger="salesperf.sources.crm_db"):
        extract.run_extract("demo_crm", ["opportunities"], warehouse=crm)

    assert "new source columns kept in _extra: fax_number" in caplog.text
    kept = conn.execute(
        "select count(*) from raw.opportunities where _extra->>'fax_number' = '+86 10 1234'"
    ).fetchone()[0]
    assert kept == 3
    assert_landing_equals_source(crm, conn)


def test_removed_required_column_stops_the_entity_and_loads_nothing(crm, conn):
    with wh.connect(crm, autocommit=True) as src:
        # a change that would otherwise be loaded, then the required column disappears
        src.execute("update crm.opportunities set amount = amount + 1, updated_at = "
                    "(select max(updated_at) from crm.opportunities) + interval '1 minute'")  # fmt: skip
        src.execute("alter table crm.opportunities drop column stage")
    before = _snapshot(conn, "opportunities")
    watermark = conn.execute(
        "select watermark from ops.extract_state where entity = 'opportunities'"
    ).fetchone()

    with pytest.raises(
        SourceSchemaError, match=r"crm\.opportunities has no column stage, required"
    ):
        extract.run_extract("demo_crm", ["opportunities"], warehouse=crm)

    assert _snapshot(conn, "opportunities") == before
    assert (
        conn.execute(
            "select watermark from ops.extract_state where entity = 'opportunities'"
        ).fetchone()
        == watermark
    )
    status, message = conn.execute(
        "select status, message from ops.load_batches where entity = 'opportunities' "
        "order by started_at desc limit 1"
    ).fetchone()
    assert status == "failed" and "no column stage" in message
    # the other entities still extract
    extract.run_extract("demo_crm", ["accounts"], warehouse=crm)
