-- Rep x period x KPI in long form, for all three grains, plus the derived deals_closed
-- (the sample behind the win rates). A table: scoring, rewards, plans and trends all read it.
-- No index: scoring, rewards and trends read it whole (hash joins); only
-- int_appraisal__plan_status probed the (kpi, period_type, rep_id, period_start) index, for
-- ~8 k plans, saving it 0.07 s against 0.7-1.5 s to build the index every run.
{{ config(materialized='table') }}

with kpi_values as (
    {{ unpivot_kpi_facts(ref('fct_rep_kpis_monthly')) }}
    union all
    {{ unpivot_kpi_facts(ref('fct_rep_kpis_quarterly')) }}
    union all
    {{ unpivot_kpi_facts(ref('fct_rep_kpis_yearly')) }}
),

deals_closed as (
    select
        rep_id,
        period_type,
        period_start,
        team_id,
        region,
        manager_id,
        'deals_closed' as kpi,
        sum(actual) as actual
    from kpi_values
    where kpi in ('deals_won', 'deals_lost')
    group by rep_id, period_type, period_start, team_id, region, manager_id
)

select * from kpi_values
union all
select * from deals_closed
