# ruff: noqa: S608 - the SQL below is static suite code with constants, no input
"""Mart suites for appraisal, improvement and rewards (helper D's marts): scores 0-150,
KPI weights summing to 1 per rep and period, every plan and reward referencing a known rep.

Only marts that exist in the dbt project are listed in ``SUITES`` (a listed mart that is
missing fails validation on purpose); the builders for the others are ready here.
"""

from __future__ import annotations

from expectations import _rules as r
from expectations.registry import mart

WEIGHT_TOLERANCE = "0.0001"


def fct_appraisal_scores(context):
    return r.new_suite(
        context,
        "marts.fct_appraisal_scores",
        r.grain("rep_id", "period_type", "period_start", "kpi"),
        *r.present("rep_id", "period_start", "kpi"),
        r.between("score", 0, 150),
        r.between("weight", 0, 1),
        r.rule(
            "KPI weights sum to 1 per rep and period",
            f"""
            select rep_id, period_type, period_start, sum(weight) as weight_sum, count(*) as kpis
            from {{batch}}
            group by rep_id, period_type, period_start
            having abs(sum(weight) - 1) > {WEIGHT_TOLERANCE}
            """,
        ),
        r.rule(
            "renormalised weights of the KPIs that count sum to 1 per rep and period",
            f"""
            select rep_id, period_type, period_start,
                   sum(effective_weight) filter (where counts_in_total) as effective_weight_sum,
                   count(*) filter (where counts_in_total) as kpis_counted
            from {{batch}}
            group by rep_id, period_type, period_start
            having bool_or(counts_in_total)
               and abs(sum(effective_weight) filter (where counts_in_total) - 1)
                   > {WEIGHT_TOLERANCE}
            """,
        ),
        r.references("rep_id", "marts.dim_reps", "rep_id"),
    )


def fct_appraisal_summary(context):
    return r.new_suite(
        context,
        "marts.fct_appraisal_summary",
        r.grain("rep_id", "period_type", "period_start"),
        r.between("total_score", 0, 150),
        *r.present("grade"),
        r.between("rank_in_team", 1),
        r.between("rank_in_company", 1),
        r.references("rep_id", "marts.dim_reps", "rep_id"),
    )


def fct_improvement_plans(context):
    return r.new_suite(
        context,
        "marts.fct_improvement_plans",
        *r.key("plan_id"),
        *r.present("rep_id", "kpi"),
        r.references("rep_id", "marts.dim_reps", "rep_id"),
    )


def fct_rewards(context):
    return r.new_suite(
        context,
        "marts.fct_rewards",
        *r.key("reward_id"),
        *r.present("rep_id", "kind"),
        r.rule(
            "a reward amount is negative only for a clawback",
            "select * from {batch} where amount < 0 and not coalesce(is_clawback, false)",
        ),
        r.references("rep_id", "marts.dim_reps", "rep_id"),
        r.references("references_reward_id", "marts.fct_rewards", "reward_id"),
    )


BUILDERS = {
    "fct_appraisal_scores": fct_appraisal_scores,
    "fct_appraisal_summary": fct_appraisal_summary,
    "fct_improvement_plans": fct_improvement_plans,
    "fct_rewards": fct_rewards,
}

# Marts of this group that the dbt project builds (checked against dbt_project/models).
BUILT = ["fct_appraisal_scores", "fct_appraisal_summary", "fct_improvement_plans", "fct_rewards"]

SUITES = [mart(name, BUILDERS[name]) for name in BUILT]
