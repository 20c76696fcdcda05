"""Landing suites for the sales pipeline: opportunities, their stage history, activities
and orders."""

from __future__ import annotations

from expectations import _rules as r
from expectations.landing_common import contract
from expectations.registry import landing


def opportunities(context):
    name = "landing.opportunities"
    return r.new_suite(
        context,
        name,
        *contract("opportunities", name),
        r.between("amount", 0),
        r.between("probability", 0, 100),
        r.not_in_future("created_at"),
        r.not_in_future("closed_at"),
        r.rule("a won deal is closed", "select * from {batch} where is_won and not is_closed"),
        r.rule(
            "a deal does not close before it is created",
            "select * from {batch} where closed_at < created_at - interval '1 day'",
        ),
    )


def opportunity_stage_history(context):
    name = "landing.opportunity_stage_history"
    return r.new_suite(
        context,
        name,
        *contract("opportunity_stage_history", name),
        r.between("amount", 0),
        r.not_in_future("changed_at"),
    )


def activities(context):
    name = "landing.activities"
    return r.new_suite(
        context,
        name,
        *contract("activities", name),
        r.in_set("activity_type", {"call", "meeting", "visit", "email", "demo"}),
        r.between("duration_minutes", 0),
        r.not_in_future("occurred_at"),
    )


def orders(context):
    name = "landing.orders"
    return r.new_suite(
        context,
        name,
        *contract("orders", name),
        r.between("amount", 0),
        r.in_set("status", {"paid", "refunded", "cancelled"}),
        r.not_in_future("order_date"),
    )


SUITES = [
    landing("opportunities", opportunities),
    landing("opportunity_stage_history", opportunity_stage_history),
    landing("activities", activities),
    landing("orders", orders),
]
