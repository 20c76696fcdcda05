-- The quarterly review of the appraisal system (持续优化), one row per quarter: grades,
-- share of reps at target, KPIs that no longer separate, target difficulty, improvement
-- plan completion and effect, reward cost against revenue, and the feedback of reps and
-- managers on the appraisal.
with summary as (
    select * from {{ ref('fct_appraisal_summary') }} where period_type = 'quarter'
),

quarters as (
    select
        period_start as quarter_start,
        max(period_end) as quarter_end,
        bool_and(is_period_closed) as is_closed,
        count(total_score) as reps_scored,
        round(avg(total_score), 2) as avg_total_score,
        count(*) filter (where weights_renormalised) as reps_renormalised
    from summary
    group by period_start
),

grades as (
    select
        quarter_start,
        jsonb_object_agg(grade, reps order by min_score desc) as grade_distribution,
        max(share) as top_grade_share
    from {{ ref('fct_quarterly_grade_distribution') }}
    group by quarter_start
),

kpi_review as (
    select
        quarter_start,
        sum(reps_with_target) filter (where kpi = 'revenue') as reps_with_revenue_target,
        max(share_at_target) filter (where kpi = 'revenue') as share_at_target,
        max(share_far_above_target) filter (where kpi = 'revenue') as share_far_above_target,
        max(target_verdict) filter (where kpi = 'revenue') as target_verdict,
        string_agg(kpi, ', ' order by kpi) filter (where separates = false) as kpis_not_separating
    from {{ ref('fct_quarterly_kpi_review') }}
    group by quarter_start
),

plans as (
    select
        cast(date_trunc('quarter', due_date) as date) as quarter_start,
        count(*) as plans_due,
        count(*) filter (where status = 'done') as plans_done,
        count(*) filter (where status = 'overdue') as plans_overdue,
        count(*) filter (where goal_met is not null) as plans_evaluated,
        count(*) filter (where goal_met) as plans_goal_met,
        round(avg(effect / nullif(abs(baseline), 0)) filter (where effect is not null), 4)
            as avg_relative_effect
    from {{ ref('fct_improvement_plans') }}
    group by 1
),

plans_created as (
    select cast(date_trunc('quarter', created_date) as date) as quarter_start, count(*) as n
    from {{ ref('fct_improvement_plans') }}
    group by 1
),

rewards as (
    select
        cast(date_trunc('quarter', period_start) as date) as quarter_start,
        count(*) filter (where not is_clawback) as rewards_given,
        count(*) filter (where is_clawback) as clawbacks,
        coalesce(sum(amount), 0) as reward_cost
    from {{ ref('fct_rewards') }}
    group by 1
),

revenue as (
    select period_start as quarter_start, sum(revenue) as revenue
    from {{ ref('fct_rep_kpis_quarterly') }}
    group by period_start
),

feedback as (
    select
        cast(quarter_start as date) as quarter_start,
        count(*) as feedback_responses,
        round(avg((fairness_score + clarity_score + usefulness_score) / 3.0), 2) as feedback_avg,
        round(avg(fairness_score), 2) as feedback_fairness_avg,
        round(avg(clarity_score), 2) as feedback_clarity_avg,
        round(avg(usefulness_score), 2) as feedback_usefulness_avg,
        round(avg((fairness_score + clarity_score + usefulness_score) / 3.0)
            filter (where role = 'rep'), 2) as feedback_reps_avg,
        round(avg((fairness_score + clarity_score + usefulness_score) / 3.0)
            filter (where role = 'manager'), 2) as feedback_managers_avg
    from {{ ref('stg_crm__appraisal_feedback') }}
    group by 1
)

select
    quarters.*,
    grades.grade_distribution,
    grades.top_grade_share,
    coalesce(kpi_review.reps_with_revenue_target, 0) as reps_with_revenue_target,
    kpi_review.share_at_target,
    kpi_review.share_far_above_target,
    coalesce(kpi_review.target_verdict, 'no_targets') as target_verdict,
    kpi_review.kpis_not_separating,
    coalesce(plans_created.n, 0) as plans_created,
    coalesce(plans.plans_due, 0) as plans_due,
    coalesce(plans.plans_done, 0) as plans_done,
    coalesce(plans.plans_overdue, 0) as plans_overdue,
    round(plans.plans_done::numeric / nullif(plans.plans_done + plans.plans_overdue, 0), 4)
        as plan_completion_rate,
    coalesce(plans.plans_evaluated, 0) as plans_evaluated,
    round(plans.plans_goal_met::numeric / nullif(plans.plans_evaluated, 0), 4) as plan_goal_met_rate,
    plans.avg_relative_effect as plan_avg_relative_effect,
    coalesce(rewards.rewards_given, 0) as rewards_given,
    coalesce(rewards.clawbacks, 0) as clawbacks,
    coalesce(rewards.reward_cost, 0) as reward_cost,
    coalesce(revenue.revenue, 0) as revenue,
    round(coalesce(rewards.reward_cost, 0) / nullif(revenue.revenue, 0), 4) as reward_cost_share,
    coalesce(feedback.feedback_responses, 0) as feedback_responses,
    feedback.feedback_avg,
    feedback.feedback_fairness_avg,
    feedback.feedback_clarity_avg,
    feedback.feedback_usefulness_avg,
    feedback.feedback_reps_avg,
    feedback.feedback_managers_avg
from quarters
left join grades on grades.quarter_start = quarters.quarter_start
left join kpi_review on kpi_review.quarter_start = quarters.quarter_start
left join plans on plans.quarter_start = quarters.quarter_start
left join plans_created on plans_created.quarter_start = quarters.quarter_start
left join rewards on rewards.quarter_start = quarters.quarter_start
left join revenue on revenue.quarter_start = quarters.quarter_start
left join feedback on feedback.quarter_start = quarters.quarter_start
