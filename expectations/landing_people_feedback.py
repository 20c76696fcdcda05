"""Landing suites for targets and people development: sales targets, appraisal feedback and
coaching sessions."""

from __future__ import annotations

from expectations import _rules as r
from expectations.landing_common import contract
from expectations.registry import landing


def sales_targets(context):
    name = "landing.sales_targets"
    return r.new_suite(
        context,
        name,
        *contract("sales_targets", name),
        r.between("value", 0),
        r.in_set("level", {"company", "region", "team", "rep"}),
        r.in_set("period_type", {"year", "quarter", "month"}),
        r.in_set("metric", {"revenue", "deals_won", "new_customers", "activities"}),
        r.rule(
            "a target below company level names its region, team or rep",
            "select * from {batch} where level <> 'company' and level_key is null",
        ),
        r.grain("_source", "level", "level_key", "period_type", "period_start", "metric"),
    )


def appraisal_feedback(context):
    name = "landing.appraisal_feedback"
    return r.new_suite(
        context,
        name,
        *contract("appraisal_feedback", name),
        r.between("fairness_score", 1, 5),
        r.between("clarity_score", 1, 5),
        r.between("usefulness_score", 1, 5),
        r.not_in_future("submitted_at"),
    )


def coaching_sessions(context):
    name = "landing.coaching_sessions"
    return r.new_suite(
        context,
        name,
        *contract("coaching_sessions", name),
        r.between("duration_minutes", 0),
        r.not_in_future("session_date"),
    )


SUITES = [
    landing("sales_targets", sales_targets),
    landing("appraisal_feedback", appraisal_feedback),
    landing("coaching_sessions", coaching_sessions),
]
