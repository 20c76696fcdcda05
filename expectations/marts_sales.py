"""Mart suites for tracking sales: customers, opportunities, stage transitions, the funnel."""

# ruff: noqa: S608 - the SQL below is static suite code with constants, no input
from __future__ import annotations

from expectations import _rules as r
from expectations.registry import mart


def dim_customers(context):
    return r.new_suite(
        context,
        "marts.dim_customers",
        *r.key("account_id"),
        r.between("order_count", 0),
        r.between("lifetime_revenue", 0),
        r.between("open_pipeline_amount", 0),
        r.between("avg_csat", 1, 5),
    )


def fct_opportunities(context):
    return r.new_suite(
        context,
        "marts.fct_opportunities",
        *r.key("opportunity_id", indexed_in="marts.fct_opportunities"),
        *r.present("owner_id", "stage"),
        r.between("amount", 0),
        r.between("amount_company", 0),
        r.between("sales_cycle_days", 0),
        r.rule("a won deal is closed", "select * from {batch} where is_won and not is_closed"),
    )


def fct_stage_transitions(context):
    return r.new_suite(
        context,
        "marts.fct_stage_transitions",
        *r.key("stage_change_id", indexed_in="marts.fct_stage_transitions"),
        r.between("days_in_stage", 0),
        r.rule(
            "a stage is left after it is entered",
            "select * from {batch} where exited_at < entered_at",
        ),
    )


def fct_funnel_monthly(context):
    return r.new_suite(
        context,
        "marts.fct_funnel_monthly",
        r.grain("level", "level_key", "month_start", "funnel_stage"),
        r.in_set("level", {"rep", "team", "region", "company"}),
        r.between("entries", 0),
        r.between("conversion_rate", 0, 1),
        r.between("win_rate_count", 0, 1),
        r.between("win_rate_amount", 0, 1),
        r.rule(
            "funnel entries never grow down the funnel (per level, key and month)",
            """
            select level, level_key, month_start, previous_stage, previous_entries,
                   funnel_stage, entries
            from (
                select level, level_key, month_start, funnel_stage, entries,
                       lag(funnel_stage) over w as previous_stage,
                       lag(entries) over w as previous_entries
                from {batch}
                window w as (partition by level, level_key, month_start order by stage_order)
            ) as funnel
            where entries > previous_entries
            """,
        ),
        r.rule(
            "conversions to the next stage never exceed the stage's entries",
            "select * from {batch} where conversions > entries",
        ),
    )


SUITES = [
    mart("dim_customers", dim_customers),
    mart("fct_opportunities", fct_opportunities),
    mart("fct_stage_transitions", fct_stage_transitions),
    mart("fct_funnel_monthly", fct_funnel_monthly),
]
