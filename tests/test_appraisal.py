"""Appraisal marts (marts II) on real data: the small demo CRM and the Maven export.

The formulas themselves (scoring methods, grade edges, tiers, clawback, plan status) are
dbt unit tests in the dbt project; here they run in dbt against the demo warehouse, and the
built marts are checked for what the issue promises."""

from __future__ import annotations

import pytest
from appraisal_support import dbt, demo_marts, maven_marts, rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(server, _created_dbs, tmp_path_factory):
    return demo_marts(server, _created_dbs, tmp_path_factory.mktemp("dbt_demo"))


@pytest.fixture(scope="module")
def maven(server, _created_dbs, shared_data, tmp_path_factory):
    return maven_marts(server, _created_dbs, shared_data, tmp_path_factory.mktemp("dbt_maven"))


def test_rule_seed_tests_and_unit_tests_pass(demo, tmp_path):
    """Seed consistency tests, the marts' data tests and every formula unit test."""
    result = dbt(
        [
            "test",
            "--select",
            "kpi_scorecard grade_bands improvement_rules reward_rules reward_tiers",
            "review_thresholds path:tests/rules path:models/intermediate/appraisal",
            "path:models/intermediate/rewards path:models/marts/appraisal",
            "path:models/marts/rewards path:models/marts/review",
        ],
        demo,
        tmp_path,
    )
    out = result.stdout
    for unit_test in [
        "test_scoring_target_ratio",
        "test_scoring_linear",
        "test_scoring_percentile",
        "test_grade_edges_and_renormalisation",
        "test_plan_status_transitions",
        "test_bonus_tier_boundaries",
        "test_bonus_accelerator_and_cap",
        "test_clawback_of_refunded_deals",
        "test_rule_streaks_ranks_and_tenure",
        "assert_reward_tiers_contiguous",
        "assert_kpi_weights_sum_to_one",
        "assert_rule_kpis_exist",
    ]:
        assert f"PASS {unit_test}" in out or f"::{unit_test}" in out, unit_test
    assert " ERROR=0 " in out and "FAIL" not in out.replace("FAIL=0", "")


def test_every_active_rep_has_a_score_and_grade(demo):
    (last_closed,) = rows(
        demo,
        "select max(period_start) from marts.fct_appraisal_summary "
        "where period_type = 'month' and is_period_closed",
    )[0]
    missing = rows(
        demo,
        """
        select r.rep_id from marts.dim_reps r
        left join marts.fct_appraisal_summary s
          on s.rep_id = r.rep_id and s.period_type = 'month' and s.period_start = %s
        where r.role = 'rep' and r.is_active and (s.total_score is null or s.grade is null)
        """,
        (last_closed,),
    )
    reps = rows(demo, "select count(*) from marts.dim_reps where role = 'rep' and is_active")[0][0]
    assert reps > 10 and missing == []


def test_grades_differ_and_scores_add_up(demo):
    grades = rows(
        demo, "select distinct grade from marts.fct_appraisal_summary where period_type = 'quarter'"
    )
    assert len(grades) >= 3
    # The total is the sum of the KPI points (score x effective weight), within rounding.
    off = rows(
        demo,
        """
        select s.rep_id, s.period_type, s.period_start, s.total_score, sum(k.weighted_points)
        from marts.fct_appraisal_summary s
        join marts.fct_appraisal_scores k using (rep_id, period_type, period_start)
        group by 1, 2, 3, 4
        having abs(s.total_score - sum(k.weighted_points)) > 0.05
            or abs(sum(k.effective_weight) - 1) > 0.0001
        """,
    )
    assert off == []
    bounds = rows(demo, "select min(score), max(score), count(*) from marts.fct_appraisal_scores")[
        0
    ]
    assert bounds[0] >= 0 and bounds[1] <= 150 and bounds[2] > 1000


def test_ranks_run_from_one_in_each_team_and_company(demo):
    bad = rows(
        demo,
        """
        select period_type, period_start, team_id
        from marts.fct_appraisal_summary where total_score is not null
        group by 1, 2, 3 having min(rank_in_team) <> 1 or max(rank_in_team) > count(*)
        union all
        select period_type, period_start, 'company'
        from marts.fct_appraisal_summary where total_score is not null
        group by 1, 2 having min(rank_in_company) <> 1 or max(rank_in_company) <> count(*)
            and count(distinct total_score) = count(*)
        """,
    )
    assert bad == []


def test_improvement_plans_are_owned_and_tracked(demo):
    statuses = dict(
        rows(demo, "select status, count(*) from marts.fct_improvement_plans group by status")
    )
    assert {"done", "overdue"} <= set(statuses) and sum(statuses.values()) > 20
    # Owner = the rep's manager in that period; due after creation; a goal above the baseline;
    # done plans had coaching.
    bad = rows(
        demo,
        """
        select plan_id from marts.fct_improvement_plans
        where manager_id is null or due_date <= created_date or goal <= baseline
           or (status = 'done') <> (sessions_logged > 0 and due_date < as_of_date)
        """,
    )
    assert bad == []
    measured = rows(
        demo,
        "select count(*) from marts.fct_improvement_plans where effect is not null",
    )[0][0]
    assert measured > 0


def test_trends_have_mom_yoy_and_direction(demo):
    stats = rows(
        demo,
        """
        select count(*) filter (where mom_change is not null),
               count(*) filter (where yoy_change is not null),
               count(distinct direction), count(distinct level)
        from marts.fct_kpi_trends
        """,
    )[0]
    assert stats[0] > 0 and stats[1] > 0 and stats[2] == 3 and stats[3] == 2
    # MoM really is this month minus the previous month, for one rep.
    check = rows(
        demo,
        """
        select t.mom_change, round(k.revenue - p.revenue, 4)
        from marts.fct_kpi_trends t
        join marts.fct_rep_kpis_monthly k
          on k.rep_id = t.level_key and k.period_start = t.period_start
        join marts.fct_rep_kpis_monthly p
          on p.rep_id = t.level_key and p.period_start = (t.period_start - interval '1 month')::date
        where t.level = 'rep' and t.kpi = 'revenue'
        limit 50
        """,
    )
    assert check and all(a == b for a, b in check)


def test_quarterly_review_has_recommendations(demo):
    quarters = rows(demo, "select count(*) from marts.fct_quarterly_review where is_closed")[0][0]
    recs = rows(
        demo,
        """
        select r.quarter_start, count(*), count(distinct topic)
        from marts.fct_quarterly_review r
        join marts.fct_quarterly_recommendations c using (quarter_start)
        where r.is_closed group by 1
        """,
    )
    assert quarters > 0 and len(recs) == quarters
    review = rows(
        demo,
        """
        select count(*) filter (where reward_cost > 0 and reward_cost_share > 0),
               count(*) filter (where feedback_responses > 0),
               count(*) filter (where plans_due > 0)
        from marts.fct_quarterly_review where is_closed
        """,
    )[0]
    assert all(n > 0 for n in review)


def test_recommendations_name_kpis_by_their_scorecard_labels(demo):
    """A manager reads 客户满意度 / Customer satisfaction, not csat_avg: a recommendation about
    a KPI names it by the label of seed kpi_scorecard, in each language."""
    recs = rows(
        demo,
        """
        select c.subject, c.text_zh, c.text_en, s.label_zh, s.label_en, k.kpi_label_en
        from marts.fct_quarterly_recommendations c
        join config.kpi_scorecard s on s.kpi = c.subject
        join marts.fct_quarterly_kpi_review k
          on k.quarter_start = c.quarter_start and k.kpi = c.subject
        where c.topic = 'kpi_not_separating'
        """,
    )
    assert recs  # the demo has KPIs that stop separating reps
    for code, text_zh, text_en, label_zh, label_en, kpi_label_en in recs:
        assert label_zh in text_zh and label_en in text_en and kpi_label_en == label_en
        assert code not in text_zh and code not in text_en


def test_maven_without_targets_renormalises_and_says_so(maven):
    summary = rows(
        maven,
        """
        select count(*), count(total_score), count(*) filter (where weights_renormalised),
               count(*) filter (where note like 'No target for Revenue.%%'),
               count(*) filter (where note_zh like '%%没有目标%%'),
               count(distinct grade)
        from marts.fct_appraisal_summary where period_type = 'quarter'
        """,
    )[0]
    total, scored, renormalised, says_no_target, says_zh, grades = summary
    assert total > 0 and scored == total == renormalised == says_no_target == says_zh
    assert grades >= 2
    revenue = rows(
        maven,
        "select count(*) filter (where counts_in_total), count(*) filter (where "
        "missing_reason = 'no_target'), count(*) from marts.fct_appraisal_scores "
        "where kpi = 'revenue'",
    )[0]
    assert revenue[0] == 0 and revenue[1] == revenue[2] > 0
