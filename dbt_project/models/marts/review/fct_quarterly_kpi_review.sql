-- Per quarter and scorecard KPI: does it still separate strong from weak performers (the
-- top half of reps by total score against the bottom half), and, for target KPIs, are the
-- targets too easy (most reps far above) or too hard (few reach them)?
with scores as (
    select * from {{ ref('fct_appraisal_scores') }}
    where period_type = 'quarter'
),

totals as (
    select
        rep_id,
        period_start,
        total_score,
        ntile(2) over (partition by period_start order by total_score desc) as half
    from {{ ref('fct_appraisal_summary') }}
    where period_type = 'quarter' and total_score is not null
),

per_kpi as (
    select
        scores.period_start as quarter_start,
        scores.kpi,
        max(scores.kpi_label_zh) as kpi_label_zh,
        max(scores.kpi_label_en) as kpi_label_en,
        max(scores.method) as method,
        count(*) filter (where scores.has_data) as reps_with_data,
        count(*) as reps,
        round(avg(scores.score), 2) as avg_score,
        round(stddev_pop(scores.score), 2) as score_stddev,
        round(avg(scores.score) filter (where totals.half = 1), 2) as top_half_avg_score,
        round(avg(scores.score) filter (where totals.half = 2), 2) as bottom_half_avg_score,
        count(*) filter (where scores.method = 'target_ratio' and scores.has_data) as reps_with_target,
        count(*) filter (
            where scores.method = 'target_ratio' and scores.has_data
              and scores.actual >= scores.target
        ) as reps_at_target,
        count(*) filter (
            where scores.method = 'target_ratio' and scores.has_data
              and scores.actual >= scores.target * {{ review_threshold('far_above_attainment') }}
        ) as reps_far_above_target
    from scores
    left join totals
        on totals.rep_id = scores.rep_id and totals.period_start = scores.period_start
    group by scores.period_start, scores.kpi
)

select
    md5(concat_ws('|', quarter_start, kpi)) as kpi_review_id,
    per_kpi.*,
    top_half_avg_score - bottom_half_avg_score as score_gap,
    case when reps_with_data >= {{ review_threshold('kpi_min_reps') }}
        then coalesce(top_half_avg_score - bottom_half_avg_score, 0)
            >= {{ review_threshold('kpi_min_score_gap') }}
    end as separates,
    round(reps_at_target::numeric / nullif(reps_with_target, 0), 4) as share_at_target,
    round(reps_far_above_target::numeric / nullif(reps_with_target, 0), 4)
        as share_far_above_target,
    case
        when method <> 'target_ratio' then null
        when reps_with_target = 0 then 'no_targets'
        when reps_far_above_target::numeric / reps_with_target
            > {{ review_threshold('targets_too_easy_share') }} then 'too_easy'
        when reps_at_target::numeric / reps_with_target
            < {{ review_threshold('targets_too_hard_share') }} then 'too_hard'
        else 'balanced'
    end as target_verdict
from per_kpi
