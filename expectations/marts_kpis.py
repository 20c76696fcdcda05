"""Mart suites for the rep KPI facts (monthly, quarterly, yearly): one row per rep and
period, plausible ranges, attainment consistent with revenue / revenue_target, and every
rep known in dim_reps."""

# ruff: noqa: S608 - the SQL below is static suite code with constants, no input
from __future__ import annotations

from expectations import _rules as r
from expectations.registry import mart

# attainment is stored rounded; allow for that, not for a wrong formula
ATTAINMENT_TOLERANCE = "0.001"


def kpi_suite(period: str):
    table = f"fct_rep_kpis_{period}"

    def build(context):
        return r.new_suite(
            context,
            f"marts.{table}",
            r.grain("rep_id", "period_start"),
            *r.present("rep_id", "period_start"),
            r.between("revenue", 0),
            r.between("revenue_target", 0),
            r.between("deals_won", 0),
            r.between("deals_lost", 0),
            r.between("activities_total", 0),
            r.between("win_rate_count", 0, 1),
            r.between("win_rate_amount", 0, 1),
            r.between("csat_avg", 1, 5),
            r.between("nps", -100, 100),
            r.rule(
                "attainment = revenue / revenue_target (null without a target)",
                f"""
                select rep_id, period_start, revenue, revenue_target, attainment
                from {{batch}}
                where (revenue_target > 0 and (attainment is null
                        or abs(attainment - revenue / revenue_target) > {ATTAINMENT_TOLERANCE}))
                   or (revenue_target is null and attainment is not null)
                """,
            ),
            r.references("rep_id", "marts.dim_reps", "rep_id"),
        )

    return mart(table, build)


SUITES = [kpi_suite("monthly"), kpi_suite("quarterly"), kpi_suite("yearly")]
