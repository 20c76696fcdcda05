"""Mart suites for targets: the decomposed targets and their daily pacing."""

# ruff: noqa: S608 - the SQL below is static suite code with constants, no input
from __future__ import annotations

from expectations import _rules as r
from expectations.registry import mart

# target_value is numeric(18,2); a decomposition may leave a cent of rounding per parent
TARGET_TOLERANCE = "0.01"


def fct_sales_targets(context):
    return r.new_suite(
        context,
        "marts.fct_sales_targets",
        *r.key("target_key"),
        r.grain("level", "level_key", "period_type", "period_start", "metric"),
        r.in_set("level", {"company", "region", "team", "rep"}),
        r.in_set("period_type", {"year", "quarter", "month"}),
        r.between("target_value", 0),
        r.references("parent_target_key", "marts.fct_sales_targets", "target_key"),
        r.rule(
            "children targets sum to their parent",
            # Entered (pinned) targets are kept as entered: when every child was entered, or
            # the entered children already exceed the parent, nothing could be shared and
            # dbt reports the conflict to the target owners (a warning, not a data error).
            f"""
            select parent.target_key, parent.level, parent.level_key, parent.period_type,
                   parent.period_start, parent.metric, parent.target_value,
                   sum(child.target_value) as children_sum, count(*) as children
            from {{batch}} child
            join {{batch}} parent on parent.target_key = child.parent_target_key
            group by parent.target_key, parent.level, parent.level_key, parent.period_type,
                     parent.period_start, parent.metric, parent.target_value
            having abs(sum(child.target_value) - parent.target_value) > {TARGET_TOLERANCE}
               and count(case when not child.is_pinned then 1 end) > 0
               and sum(case when child.is_pinned then child.target_value else 0 end)
                   <= parent.target_value
            """,
        ),
    )


def fct_target_pacing_daily(context):
    return r.new_suite(
        context,
        "marts.fct_target_pacing_daily",
        r.grain(
            "level",
            "level_key",
            "as_of_date",
            "period_type",
            "period_start",
            indexed_in="marts.fct_target_pacing_daily",
        ),
        r.in_set("period_type", {"year", "quarter", "month"}),
        r.between("target", 0),
        r.between("expected_to_date", 0),
    )


SUITES = [
    mart("fct_sales_targets", fct_sales_targets),
    mart("fct_target_pacing_daily", fct_target_pacing_daily),
]
