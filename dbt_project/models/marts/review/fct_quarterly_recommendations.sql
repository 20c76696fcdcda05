-- Recommendations that follow from the quarterly review, each with the evidence behind it
-- (thresholds in seed review_thresholds). A quarter with no finding says so.
with review as (
    select * from {{ ref('fct_quarterly_review') }}
),

kpi_review as (
    select * from {{ ref('fct_quarterly_kpi_review') }}
),

findings as (
    select quarter_start, 'targets_too_easy' as topic, 'revenue' as subject, 'high' as severity,
        '提高销售目标：有目标的销售中 ' || {{ fmt_pct('share_far_above_target') }}
        || ' 的达成率超过 ' || {{ fmt_pct(review_threshold('far_above_attainment')) }} || '。' as text_zh,
        'Raise revenue targets: ' || {{ fmt_pct('share_far_above_target') }}
        || ' of reps with a target finished above '
        || {{ fmt_pct(review_threshold('far_above_attainment')) }} || '.' as text_en
    from review where target_verdict = 'too_easy'
    union all
    select quarter_start, 'targets_too_hard', 'revenue', 'high',
        '重新评估销售目标：仅 ' || {{ fmt_pct('share_at_target') }} || ' 的销售达成目标。',
        'Revisit revenue targets: only ' || {{ fmt_pct('share_at_target') }}
        || ' of reps reached their target.'
    from review where target_verdict = 'too_hard'
    union all
    select quarter_start, 'no_targets', 'revenue', 'medium',
        '本季度没有销售个人目标：销售额按无目标处理，' || reps_renormalised
        || ' 名销售的权重已重新归一。请在 CRM 中录入目标。',
        'No rep revenue targets this quarter: revenue could not be scored against a target and '
        || reps_renormalised || ' reps had their weights renormalised. Enter targets in the CRM.'
    from review where target_verdict = 'no_targets'
    union all
    select quarter_start, 'kpi_not_separating', kpi, 'medium',
        '指标 ' || coalesce(kpi_label_zh, kpi) || ' 已无法区分优秀与待改进的销售（前半 ' || {{ fmt_num('top_half_avg_score', 1) }}
        || ' 分，后半 ' || {{ fmt_num('bottom_half_avg_score', 1) }} || ' 分）：降低其权重或调整评分方法。',
        'KPI ' || coalesce(kpi_label_en, kpi) || ' no longer separates strong from weak performers (top half '
        || {{ fmt_num('top_half_avg_score', 1) }} || ' vs bottom half '
        || {{ fmt_num('bottom_half_avg_score', 1) }} || ' points): lower its weight or change how it is scored.'
    from kpi_review where separates = false
    union all
    select quarter_start, 'grades_bunched', null, 'medium',
        '等级过于集中：' || {{ fmt_pct('top_grade_share') }} || ' 的销售获得同一等级，请检查等级分界或指标上限。',
        'Grades bunch together: ' || {{ fmt_pct('top_grade_share') }}
        || ' of reps got the same grade; review the grade bands or the KPI caps.'
    from review where top_grade_share > {{ review_threshold('grade_concentration_max') }}
    union all
    select quarter_start, 'plans_not_followed', null, 'high',
        '到期的改进计划中仅 ' || {{ fmt_pct('plan_completion_rate') }}
        || ' 有辅导记录：主管应在 CRM 中记录辅导与培训。',
        'Only ' || {{ fmt_pct('plan_completion_rate') }}
        || ' of the improvement plans due had coaching logged: managers should log coaching and training in the CRM.'
    from review where plan_completion_rate < {{ review_threshold('plan_completion_min') }}
    union all
    select quarter_start, 'plans_ineffective', null, 'medium',
        '已评估的 ' || plans_evaluated || ' 个改进计划中仅 ' || {{ fmt_pct('plan_goal_met_rate') }}
        || ' 达成目标：请复核改进措施。',
        'Of ' || plans_evaluated || ' improvement plans measured, only '
        || {{ fmt_pct('plan_goal_met_rate') }} || ' reached their goal: revisit the actions.'
    from review where plans_evaluated >= 3 and plan_goal_met_rate < 0.5
    union all
    select quarter_start, 'reward_cost_high', null, 'high',
        '奖励成本占销售额的 ' || {{ fmt_pct('reward_cost_share') }} || '：考虑降低比例或封顶金额。',
        'Rewards cost ' || {{ fmt_pct('reward_cost_share') }}
        || ' of revenue: consider lower rates or a lower cap.'
    from review where reward_cost_share > {{ review_threshold('reward_cost_max_share') }}
    union all
    select quarter_start, 'feedback_poor', null, 'high',
        '销售与主管对考核的评分为 ' || {{ fmt_num('feedback_avg', 2) }}
        || '/5（公平 ' || {{ fmt_num('feedback_fairness_avg', 2) }} || '，清晰 '
        || {{ fmt_num('feedback_clarity_avg', 2) }} || '，有用 '
        || {{ fmt_num('feedback_usefulness_avg', 2) }} || '）：与团队复盘考核规则。',
        'Reps and managers rate the appraisal ' || {{ fmt_num('feedback_avg', 2) }}
        || '/5 (fairness ' || {{ fmt_num('feedback_fairness_avg', 2) }} || ', clarity '
        || {{ fmt_num('feedback_clarity_avg', 2) }} || ', usefulness '
        || {{ fmt_num('feedback_usefulness_avg', 2) }} || '): review the rules with the teams.'
    from review where feedback_avg < {{ review_threshold('feedback_min_score') }}
    union all
    select quarter_start, 'no_feedback', null, 'info',
        '本季度未收集到对考核的反馈：请邀请销售和主管填写。',
        'No feedback on the appraisal was collected this quarter: ask reps and managers for it.'
    from review where feedback_responses = 0
),

with_fallback as (
    select * from findings
    union all
    select quarter_start, 'no_change', null, 'info',
        '本季度考核运行良好，无需调整规则。',
        'The appraisal worked as intended this quarter; no rule change is needed.'
    from review
    where quarter_start not in (select quarter_start from findings)
)

select
    md5(concat_ws('|', with_fallback.quarter_start, topic, subject)) as recommendation_id,
    with_fallback.quarter_start,
    review.is_closed,
    topic,
    subject,
    severity,
    text_zh,
    text_en
from with_fallback
inner join review on review.quarter_start = with_fallback.quarter_start
