{#- Quarterly or yearly rep KPIs from the monthly facts: additive columns summed, ratios
    recomputed from the sums, hierarchy as-was at the period's last month, the target is the
    whole period's target (attainment of a running period is period-to-date). -#}
{% macro rep_kpis_rollup(period_type, period_column) %}
with monthly as (

    select
        monthly.*,
        months.{{ period_column }} as rollup_start,
        row_number() over (
            partition by monthly.rep_id, months.{{ period_column }}
            order by monthly.period_start desc
        ) as recency
    from {{ ref('fct_rep_kpis_monthly') }} as monthly
    inner join {{ ref('int_calendar__months') }} as months
        on months.month_start = monthly.period_start

),

sums as (

    select
        rep_id,
        rollup_start,
        {% for col in kpi_additive_columns() -%}
        sum({{ col }}) as {{ col }},
        {% endfor -%}
        count(*) as months_covered
    from monthly
    group by rep_id, rollup_start

),

additive as (

    select
        sums.*,
        targets.target_value as revenue_target
    from sums
    left join {{ ref('fct_sales_targets') }} as targets
        on targets.level = 'rep' and targets.level_key = sums.rep_id
        and targets.period_type = '{{ period_type }}' and targets.period_start = sums.rollup_start
        and targets.metric = 'revenue'

),

latest as (

    select rep_id, rollup_start, team_id, region, manager_id
    from monthly
    where recency = 1

)

select
    additive.rep_id || ':' || cast(additive.rollup_start as text) as rep_period_key,
    additive.rep_id,
    '{{ period_type }}' as period_type,
    additive.rollup_start as period_start,
    latest.team_id,
    latest.region,
    latest.manager_id,
    additive.revenue_target is not null as has_target,
    additive.revenue_target,
    {{ kpi_ratios() }},
    {% for col in kpi_additive_columns() -%}
    additive.{{ col }}{{ ',' if not loop.last }}
    {% endfor %}from additive
inner join latest
    on latest.rep_id = additive.rep_id
    and latest.rollup_start = additive.rollup_start
{% endmacro %}
