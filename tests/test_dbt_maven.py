"""dbt on the Maven CRM export (real data without targets or surveys).

The export is imported through the file-import path (`salesperf import --mapping maven_crm`)
into a fresh warehouse and the whole project is built. Won amount and win rate per agent are
checked against the CSV itself, read here with the csv module.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql

from salesperf import config
from salesperf import warehouse as wh
from salesperf.dbt import transform
from salesperf.landing.migrations import migrate


@pytest.fixture(scope="module")
def maven(server, shared_data, tmp_path_factory):
    name = f"sp_dbt_maven_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    work = tmp_path_factory.mktemp("maven")
    data = work / "maven_crm"
    shutil.copytree(shared_data / "maven_crm", data)
    try:
        with wh.connect(db, autocommit=True) as conn:
            migrate(conn)
        salesperf = str(Path(sys.executable).with_name("salesperf"))
        env = {**os.environ, **db.env()}
        subprocess.run(
            [salesperf, "import", "--mapping", "maven_crm", "--dir", str(data), "--no-archive"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        transform(db, target_path=work / "target", log_path=work / "logs")
        yield db, data
    finally:
        try:
            wh.drop_database(server, name)
        except wh.WarehouseError:
            pass


def query(db, sql, params=None):
    with wh.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def pipeline_by_agent(data: Path) -> dict[str, dict[str, Decimal | int]]:
    agents: dict[str, dict] = defaultdict(lambda: {"won": 0, "lost": 0, "won_amount": Decimal(0)})
    with (data / "sales_pipeline.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            a = agents[row["sales_agent"]]
            if row["deal_stage"] == "Won":
                a["won"] += 1
                a["won_amount"] += Decimal(row["close_value"])
            elif row["deal_stage"] == "Lost":
                a["lost"] += 1
    return agents


def usd_rate_on(day: date) -> Decimal:
    with (config.DBT_PROJECT_DIR / "seeds" / "fx_rates.csv").open() as fh:
        rates = [
            (date.fromisoformat(r["valid_from"]), Decimal(r["rate_to_company"]))
            for r in csv.DictReader(fh)
            if r["currency"] == "USD"
        ]
    return max((r for r in rates if r[0] <= day), key=lambda r: r[0])[1]


def test_won_amount_and_win_rate_per_agent_match_the_csv(maven):
    db, data = maven
    expected = pipeline_by_agent(data)
    rows = query(
        db,
        """
        select r.rep_name, sum(k.deals_won), sum(k.deals_lost), sum(k.revenue)
        from marts.fct_rep_kpis_monthly k
        join marts.dim_reps r on r.rep_id = k.rep_id
        group by r.rep_name
        """,
    )
    actual = {name: (won, lost, revenue) for name, won, lost, revenue in rows}
    assert len(expected) == 30
    rate = usd_rate_on(date(2017, 6, 30))  # every Maven deal closes in 2016-2017: one rate
    for agent, e in expected.items():
        won, lost, revenue = actual[agent]
        assert (agent, won, lost) == (agent, e["won"], e["lost"])
        assert revenue == (e["won_amount"] * rate).quantize(Decimal("0.01")), agent
        win_rate = Decimal(e["won"]) / (e["won"] + e["lost"])
        (kpi_rate,) = query(
            db,
            "select sum(deals_won)::numeric / (sum(deals_won) + sum(deals_lost))"
            " from marts.fct_rep_kpis_yearly y join marts.dim_reps r on r.rep_id = y.rep_id"
            " where r.rep_name = %s",
            (agent,),
        )[0]
        assert round(kpi_rate, 6) == round(win_rate, 6), agent


def test_won_amount_in_source_currency_totals_the_readme_fact(maven):
    db, _ = maven
    (total, won) = query(
        db, "select sum(amount), count(*) from marts.fct_opportunities where is_won"
    )[0]
    assert (total, won) == (Decimal("10005534"), 4238)


def test_without_targets_attainment_is_null_and_flagged(maven):
    db, _ = maven
    for table in ("fct_rep_kpis_monthly", "fct_rep_kpis_quarterly", "fct_rep_kpis_yearly"):
        (rows, with_target, attainment) = query(
            db,
            sql.SQL(
                "select count(*), count(*) filter (where has_target), count(attainment) from {}"
            ).format(sql.Identifier("marts", table)),
        )[0]
        assert (table, with_target, attainment) == (table, 0, 0)
        assert rows > 0
    assert query(db, "select count(*) from marts.fct_sales_targets")[0][0] == 0
    assert query(db, "select count(*) from marts.fct_target_pacing_daily")[0][0] == 0


def test_agents_without_deals_still_have_kpi_rows(maven):
    db, data = maven
    with (data / "sales_teams.csv").open(encoding="utf-8", newline="") as fh:
        agents = {r["sales_agent"] for r in csv.DictReader(fh)}
    idle = agents - set(pipeline_by_agent(data))
    assert len(idle) == 5
    rows = query(
        db,
        "select r.rep_name, sum(k.revenue), count(*) from marts.fct_rep_kpis_monthly k"
        " join marts.dim_reps r on r.rep_id = k.rep_id where r.rep_name = any(%s)"
        " group by r.rep_name",
        (sorted(idle),),
    )
    assert {name for name, _, _ in rows} == idle
    assert all(revenue == 0 and months > 0 for _, revenue, months in rows)


def test_funnel_is_built_for_every_level(maven):
    db, _ = maven
    levels = dict(query(db, "select level, count(*) from marts.fct_funnel_monthly group by level"))
    assert set(levels) == {"rep", "team", "region", "company"}
    (won, lost) = query(
        db,
        "select sum(won_count), sum(lost_count) from marts.fct_funnel_monthly"
        " where level = 'company' and funnel_stage = 'prospecting'",
    )[0]
    # Prospecting deals have no engage date, so they belong to no entry cohort; every
    # closed deal does.
    assert (won, lost) == (4238, 2473)
