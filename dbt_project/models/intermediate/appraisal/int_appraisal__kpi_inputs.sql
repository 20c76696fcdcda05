-- What each scorecard KPI is scored on: rep x period x KPI with the actual, the target
-- (target_ratio KPIs, from the rep's decomposed targets) and the sample size.
-- `not materialized`: read twice, the CTE was materialized and the samples join then sorted
-- all 490 k rows on their text keys for a merge join (1.1 s of the 1.9 s of kpi_scores)
with kpi_values as not materialized (
    select * from {{ ref('int_appraisal__kpi_values') }}
),

scorecard as (
    select * from {{ ref('kpi_scorecard') }}
),

rep_targets as (
    select
        level_key as rep_id,
        period_type,
        cast(period_start as date) as period_start,
        metric,
        sum(target_value) as target_value
    from {{ ref('fct_sales_targets') }}
    where level = 'rep'
    group by level_key, period_type, period_start, metric
),

-- only the values of the sample KPIs (a few percent of the rows) are looked up as samples
samples as (
    select rep_id, period_type, period_start, kpi, actual
    from kpi_values
    where kpi in (select sample_kpi from scorecard)
)

select
    kpi_values.rep_id,
    kpi_values.period_type,
    kpi_values.period_start,
    kpi_values.team_id,
    kpi_values.region,
    kpi_values.manager_id,
    scorecard.kpi,
    kpi_values.actual,
    rep_targets.target_value as target,
    samples.actual as sample_size
from kpi_values
inner join scorecard
    on kpi_values.kpi = scorecard.kpi
left join rep_targets
    on scorecard.method = 'target_ratio'
    and rep_targets.rep_id = kpi_values.rep_id
    and rep_targets.period_type = kpi_values.period_type
    and rep_targets.period_start = kpi_values.period_start
    and rep_targets.metric = scorecard.target_metric
left join samples
    on samples.kpi = scorecard.sample_kpi
    and samples.rep_id = kpi_values.rep_id
    and samples.period_type = kpi_values.period_type
    and samples.period_start = kpi_values.period_start
