-- The scorecard: rep x period (month, quarter, year) x KPI with actual, target, score and
-- weight, and the weight it effectively got after renormalisation.
with kpi_scores as (
    select * from {{ ref('int_appraisal__kpi_scores') }}
),

scorecard as (
    select kpi, label_zh, label_en from {{ ref('kpi_scorecard') }}
),

covered as (
    select
        rep_id,
        period_type,
        period_start,
        sum(weight) filter (where counts_in_total) as weight_covered
    from kpi_scores
    group by rep_id, period_type, period_start
)

select
    md5(concat_ws('|', kpi_scores.rep_id, kpi_scores.period_type,
        kpi_scores.period_start, kpi_scores.kpi)) as appraisal_score_id,
    kpi_scores.rep_id,
    kpi_scores.period_type,
    kpi_scores.period_start,
    {{ period_end('kpi_scores.period_type', 'kpi_scores.period_start') }} as period_end,
    kpi_scores.team_id,
    kpi_scores.region,
    kpi_scores.manager_id,
    kpi_scores.kpi,
    scorecard.label_zh as kpi_label_zh,
    scorecard.label_en as kpi_label_en,
    kpi_scores.method,
    kpi_scores.actual,
    kpi_scores.target,
    kpi_scores.sample_size,
    kpi_scores.min_sample,
    kpi_scores.score,
    kpi_scores.weight,
    case when kpi_scores.counts_in_total
        then round(kpi_scores.weight / nullif(covered.weight_covered, 0), 6)
        else 0
    end as effective_weight,
    case when kpi_scores.counts_in_total
        then round(kpi_scores.score * kpi_scores.weight / nullif(covered.weight_covered, 0), 2)
        else 0
    end as weighted_points,
    kpi_scores.has_data,
    kpi_scores.missing_reason,
    kpi_scores.below_min_sample,
    kpi_scores.counts_in_total,
    kpi_scores.peer_percentile
from kpi_scores
inner join scorecard on kpi_scores.kpi = scorecard.kpi
left join covered
    on covered.rep_id = kpi_scores.rep_id
    and covered.period_type = kpi_scores.period_type
    and covered.period_start = kpi_scores.period_start
