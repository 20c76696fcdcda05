"""Rewards on the small demo CRM: stable ids, amounts that follow the rule seeds, clawbacks
of refunded deals, and rules changed by editing seeds only."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from appraisal_support import SKIP_TESTS, clone, dbt, demo_marts, project_copy, rows

from salesperf import config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(server, _created_dbs, tmp_path_factory):
    return demo_marts(server, _created_dbs, tmp_path_factory.mktemp("dbt_demo"))


def _seed(name: str) -> list[dict]:
    with (config.DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_kind_of_reward_is_given_with_its_numbers(demo):
    kinds = dict(
        rows(demo, "select kind, count(*) from marts.fct_rewards where not is_clawback group by 1")
    )
    assert {"money", "honour", "training"} <= set(kinds)
    titles = {r[0] for r in rows(demo, "select distinct title_en from marts.fct_rewards")}
    assert {"Regional sales champion of the month", "New-business hunter"} <= titles
    no_numbers = rows(
        demo,
        "select reward_id from marts.fct_rewards where reason !~ '[0-9]' or reason_zh !~ '[0-9]'",
    )
    assert no_numbers == []
    # A champion is the best of their region that month (ties share the title).
    beaten = rows(
        demo,
        """
        select w.reward_id from marts.fct_rewards w
        join marts.fct_rep_kpis_monthly k on k.rep_id = w.rep_id and k.period_start = w.period_start
        join marts.fct_rep_kpis_monthly o on o.region = k.region and o.period_start = k.period_start
        where w.rule_id = 'R02' and o.revenue > k.revenue
        """,
    )
    assert beaten == []


def test_money_bonus_follows_tiers_accelerator_and_cap(demo):
    """Recompute every quarterly bonus in Python from the KPI facts and the seeds."""
    rule = next(r for r in _seed("reward_rules") if r["kind"] == "money")
    tiers = [t for t in _seed("reward_tiers") if t["rule_id"] == rule["rule_id"]]
    got = rows(
        demo,
        """
        select w.rep_id, w.period_start, w.amount, k.attainment, k.revenue
        from marts.fct_rewards w
        join marts.fct_rep_kpis_quarterly k
          on k.rep_id = w.rep_id and k.period_start = w.period_start
        where w.rule_id = %s and not w.is_clawback
        """,
        (rule["rule_id"],),
    )
    assert len(got) > 10
    capped = accelerated = 0
    for _rep, _period, amount, attainment, revenue in got:
        rate = next(
            Decimal(t["rate"])
            for t in tiers
            if attainment >= Decimal(t["from_attainment"])
            and (not t["to_attainment"] or attainment < Decimal(t["to_attainment"]))
        )
        if attainment >= Decimal(rule["accelerator_from"]):
            rate *= Decimal(rule["accelerator"])
            accelerated += 1
        expected = min(revenue * rate, Decimal(rule["cap_amount"]))
        capped += expected == Decimal(rule["cap_amount"])
        assert amount == expected.quantize(Decimal("0.01")), (_rep, _period)
    assert accelerated > 0
    # Nobody below the first tier was paid.
    unpaid = rows(
        demo,
        "select count(*) from marts.fct_rewards w join marts.fct_rep_kpis_quarterly k "
        "using (rep_id, period_start) where w.rule_id = %s and not w.is_clawback "
        "and k.attainment < %s",
        (rule["rule_id"], Decimal(tiers[0]["from_attainment"])),
    )[0][0]
    assert unpaid == 0


def test_refunded_deals_are_clawed_back_later(demo):
    clawbacks = rows(
        demo,
        """
        select c.reward_id, c.amount, c.period_start, o.period_start,
               exists (
                   select 1 from staging.stg_crm__orders s
                   join marts.fct_opportunities f on f.opportunity_id = s.opportunity_id
                   where s.status in ('refunded', 'cancelled') and f.owner_id = c.rep_id
                     and f.is_won
                     and (f.closed_at at time zone 'Asia/Shanghai')::date
                         between o.period_start and o.period_end
               )
        from marts.fct_rewards c
        join marts.fct_rewards o on o.reward_id = c.references_reward_id
        where c.is_clawback
        """,
    )
    assert len(clawbacks) > 0
    for _id, amount, period, original_period, refund_exists in clawbacks:
        assert amount < 0 and period > original_period and refund_exists
    # All clawbacks of one reward never take back more than it paid.
    over = rows(
        demo,
        """
        select o.reward_id from marts.fct_rewards o
        join marts.fct_rewards c on c.references_reward_id = o.reward_id
        group by o.reward_id, o.amount having o.amount + sum(c.amount) < 0
        """,
    )
    assert over == []


def test_rebuilding_keeps_every_reward_id(demo, tmp_path):
    query = "select reward_id, amount, reason from marts.fct_rewards order by reward_id"
    before = rows(demo, query)
    dbt(
        ["run", "--select", "int_rewards__rep_measures+", "int_rewards__refunded_deals+"],
        demo,
        tmp_path,
    )
    after = rows(demo, query)
    assert len(before) > 50 and after == before


def test_editing_seeds_changes_scores_and_rewards_without_code(
    demo, server, _created_dbs, tmp_path
):
    """Change a KPI weight and add a reward rule in a copy of the project's seeds only."""
    db = clone(server, _created_dbs, demo)
    project = project_copy(tmp_path / "dbt_project")
    scorecard = project / "seeds" / "kpi_scorecard.csv"
    text = scorecard.read_text(encoding="utf-8")
    text = text.replace("revenue,0.35,", "revenue,0.20,").replace(
        "activities_total,0.10,", "activities_total,0.25,"
    )
    scorecard.write_text(text, encoding="utf-8")
    rules = project / "seeds" / "reward_rules.csv"
    with rules.open("a", encoding="utf-8") as fh:
        fh.write(
            "R99,honour,month,activities_total,>=,1,,,team,1,,,,,,,,false,最勤奋奖,Most active in the team\n"
        )
    before = dict(rows(db, "select appraisal_id, total_score from marts.fct_appraisal_summary"))

    # One invocation: the two seeds and everything downstream of them (one parse of the copy).
    dbt(
        ["build", "--select", "kpi_scorecard+", "reward_rules+", *SKIP_TESTS], db, tmp_path, project
    )

    after = dict(rows(db, "select appraisal_id, total_score from marts.fct_appraisal_summary"))
    assert after.keys() == before.keys()
    changed = sum(1 for k in before if before[k] != after[k])
    assert changed > len(before) / 2
    most_active = rows(
        db,
        "select count(*), count(distinct period_start), min(reason) from marts.fct_rewards "
        "where rule_id = 'R99'",
    )[0]
    assert most_active[0] >= most_active[1] > 5 and "Sales activities" in most_active[2]
    # The repository's own seeds were not touched.
    assert "revenue,0.35," in (config.DBT_PROJECT_DIR / "seeds" / "kpi_scorecard.csv").read_text(
        encoding="utf-8"
    )
