"""Landing suites for customers: accounts, contacts, leads and satisfaction surveys."""

from __future__ import annotations

from expectations import _rules as r
from expectations.landing_common import contract
from expectations.registry import landing


def accounts(context):
    name = "landing.accounts"
    return r.new_suite(
        context,
        name,
        *contract("accounts", name),
        r.between("employees", 0),
        r.between("annual_revenue", 0),
        r.not_in_future("created_at"),
    )


def contacts(context):
    name = "landing.contacts"
    return r.new_suite(context, name, *contract("contacts", name), r.not_in_future("created_at"))


def leads(context):
    name = "landing.leads"
    return r.new_suite(
        context,
        name,
        *contract("leads", name),
        r.not_in_future("created_at"),
        r.not_in_future("converted_at"),
    )


def satisfaction_surveys(context):
    name = "landing.satisfaction_surveys"
    return r.new_suite(
        context,
        name,
        *contract("satisfaction_surveys", name),
        r.between("csat", 1, 5),
        r.between("nps", 0, 10),
        r.not_in_future("surveyed_at"),
    )


SUITES = [
    landing("accounts", accounts),
    landing("contacts", contacts),
    landing("leads", leads),
    landing("satisfaction_surveys", satisfaction_surveys),
]
