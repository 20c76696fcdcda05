-- The scoring formulas (kpi_scorecard.method), one row per rep x period x KPI.
--   target_ratio: 100 x actual / target;
--   linear:       0 at floor, 100 at ceiling, straight line between and beyond;
--   percentile:   floor for the lowest peer, ceiling for the highest (same period and KPI);
-- every score clamped to [0, min(cap, 150)]. No actual (or no target) = no data; a sample
-- below min_sample is scored but left out of the total. A table: several marts read it.
{{ config(materialized='table') }}

with inputs as (
    select * from {{ ref('int_appraisal__kpi_inputs') }}
),

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

flagged as (
    select
        inputs.*,
        scorecard.weight,
        scorecard.method,
        scorecard.cap,
        scorecard.floor,
        scorecard.ceiling,
        coalesce(scorecard.higher_is_better, true) as higher_is_better,
        scorecard.min_sample,
        inputs.actual is not null
        and (scorecard.method <> 'target_ratio' or coalesce(inputs.target, 0) > 0) as has_data,
        scorecard.min_sample is not null
        and coalesce(inputs.sample_size, 0) < scorecard.min_sample as below_min_sample
    from inputs
    inner join scorecard on inputs.kpi = scorecard.kpi
),

ranked as (
    select
        flagged.*,
        case when has_data then
            percent_rank() over (
                partition by period_type, period_start, kpi, has_data
                order by case when higher_is_better then actual else -actual end
            )
        end::numeric as peer_percentile,
        count(*) filter (where has_data) over (
            partition by period_type, period_start, kpi
        ) as peers_with_data
    from flagged
),

raw_scores as (
    select
        ranked.*,
        case
            when not has_data then null
            when method = 'target_ratio' then 100.0 * actual / target
            when method = 'linear' then 100.0 * (actual - floor) / (ceiling - floor)
            when method = 'percentile' then
                floor + (ceiling - floor)
                * case when peers_with_data = 1 then 0.5 else peer_percentile end
        end as raw_score
    from ranked
)

select
    rep_id,
    period_type,
    period_start,
    team_id,
    region,
    manager_id,
    kpi,
    method,
    actual,
    target,
    sample_size,
    min_sample,
    weight,
    has_data,
    case
        when actual is null then 'no_data'
        when not has_data then 'no_target'
    end as missing_reason,
    below_min_sample,
    has_data and not below_min_sample as counts_in_total,
    peer_percentile,
    -- least/greatest ignore nulls: no data must stay no score
    case when raw_score is not null
        then round(greatest(0, least(coalesce(cap, 150), 150, raw_score)), 2)
    end as score
from raw_scores
