-- Rep x period x KPI in long form, for all three grains, plus the derived deals_closed
-- (the sample behind the win rates). A table: scoring, rewards, plans and trends all read it.
{{ config(materialized='table', indexes=[{'columns': ['kpi', 'period_type', 'rep_id', 'period_start']}]) }}

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
