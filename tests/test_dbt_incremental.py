"""Incremental facts built first on an empty landing still fill once data arrives."""

from __future__ import annotations

import pytest

from salesperf import extract
from salesperf.dbt import run_dbt
from salesperf.sources import demo_crm

FACTS = ["fct_opportunities", "fct_stage_transitions"]


@pytest.mark.slow
def test_first_build_on_empty_landing_then_data_arrives(warehouse_db, conn, tmp_path, monkeypatch):
    select = ["--select", *(f"+{f}" for f in FACTS), "--exclude-resource-type", "test", "unit_test"]
    paths = {"target_path": tmp_path / "target", "log_path": tmp_path / "logs"}
    run_dbt(["build", *select], warehouse_db, **paths)  # nothing has landed yet
    assert conn.execute("select count(*) from marts.fct_opportunities").fetchone()[0] == 0

    monkeypatch.setenv("DEMO_CRM_URL", warehouse_db.url)
    demo_crm.create("tiny", seed=7, warehouse=warehouse_db)
    extract.run_extract("demo_crm", warehouse=warehouse_db)
    run_dbt(["build", *select], warehouse_db, **paths)  # incremental now

    live = {
        "fct_opportunities": "select count(*) from staging.stg_crm__opportunities",
        # transitions of live opportunities only (history of a deleted deal is dropped)
        "fct_stage_transitions": "select count(*) from staging.stg_crm__opportunity_stage_history"
        " h join staging.stg_crm__opportunities o using (opportunity_id)",
    }
    for fact, query in live.items():
        built = conn.execute(f"select count(*) from marts.{fact}").fetchone()[0]  # noqa: S608
        assert built == conn.execute(query).fetchone()[0] > 0, fact
