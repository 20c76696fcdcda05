"""Landing suites for the organisation: users (reps, managers) and teams."""

from __future__ import annotations

from expectations import _rules as r
from expectations.landing_common import contract
from expectations.registry import landing


def users(context):
    name = "landing.users"
    return r.new_suite(
        context,
        name,
        *contract("users", name),
        r.in_set("role", {"rep", "manager", "director", "admin"}),
        r.in_set("locale", {"zh_CN", "en"}),
        r.rule(
            "an e-mail address looks like one (name@domain)",
            "select * from {batch} where email is not null and email !~ '^[^@\\s]+@[^@\\s]+$'",
        ),
        r.rule(
            "nobody leaves before being hired",
            "select * from {batch} where leave_date < hire_date",
        ),
    )


def teams(context):
    name = "landing.teams"
    return r.new_suite(
        context,
        name,
        *contract("teams", name),
    )


SUITES = [landing("users", users), landing("teams", teams)]
