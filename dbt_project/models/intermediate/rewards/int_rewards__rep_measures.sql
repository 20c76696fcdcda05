-- Everything a reward rule can test, per rep and CLOSED period: every KPI of the facts,
-- deals_closed, and the appraisal total_score; with tenure and a consecutive period index.
-- A table: every rule reads it up to three times (KPI, sample, base). No index: its only
-- reader, int_rewards__rule_matches, reads it once into a CTE and hash-joins (the index on
-- (kpi, period_type, rep_id, period_start) was never used and cost 1.3 s a build).
{{ config(materialized='table') }}

with kpi_values as (
    select rep_id, period_type, period_start, team_id, region, kpi, actual as value
    from {{ ref('int_appraisal__kpi_values') }}
    union all
    select rep_id, period_type, period_start, team_id, region, 'total_score', total_score
    from {{ ref('int_appraisal__totals') }}
),

reps as (
    select rep_id, hire_date from {{ ref('dim_reps') }}
),

with_period as (
    select
        kpi_values.*,
        {{ period_end('kpi_values.period_type', 'kpi_values.period_start') }} as period_end,
        reps.hire_date
    from kpi_values
    left join reps on reps.rep_id = kpi_values.rep_id
)

select
    rep_id,
    period_type,
    period_start,
    period_end,
    team_id,
    region,
    kpi,
    value,
    period_end - hire_date as tenure_days,
    -- consecutive periods of one type get consecutive numbers
    (extract(year from period_start) * 12 + extract(month from period_start) - 1)::int
    / case period_type when 'month' then 1 when 'quarter' then 3 else 12 end as period_index
from with_period
where period_end < {{ appraisal_as_of_date() }}
