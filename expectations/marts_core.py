"""Mart suites for the organisation and calendar: dim_reps, dim_teams, dim_date."""

# ruff: noqa: S608 - the SQL below is static suite code with constants, no input
from __future__ import annotations

from expectations import _rules as r
from expectations.registry import mart

EMAIL = "'^[^@\\s]+@[^@\\s]+$'"


def dim_reps(context):
    return r.new_suite(
        context,
        "marts.dim_reps",
        *r.key("rep_id"),
        *r.present("rep_name"),
        r.in_set("locale", {"zh_CN", "en"}),
        r.rule(
            "every active rep or manager (an e-mail recipient) has an e-mail address",
            f"select * from {{batch}} where is_active and (email is null or email !~ {EMAIL})",
        ),
        r.rule(
            "every active rep with a manager has the manager's e-mail address (team reports)",
            "select * from {batch} where is_active and manager_id is not null"
            f" and (manager_email is null or manager_email !~ {EMAIL})",
        ),
    )


def dim_teams(context):
    return r.new_suite(context, "marts.dim_teams", *r.key("team_id"), *r.present("team_name"))


def dim_date(context):
    return r.new_suite(context, "marts.dim_date", *r.key("date_day"))


SUITES = [mart("dim_reps", dim_reps), mart("dim_teams", dim_teams), mart("dim_date", dim_date)]
