-- Rep x month KPI facts in company currency, credited to the team, region and manager the
-- rep had at the end of the month. Attainment is null (has_target false) without a target.
with grid as (

    select * from {{ ref('int_sales__rep_months') }}

),

additive as (

    select
        grid.rep_id,
        grid.month_start,
        grid.month_end,
        coalesce(deals.revenue, 0) as revenue,
        targets.target_value as revenue_target,
        coalesce(new_customers.new_customers, 0) as new_customers,
        {% for col in ['deals_won', 'deals_lost', 'lost_amount', 'won_cycle_days_sum', 'won_cycle_count', 'opportunities_created', 'pipeline_created'] -%}
        coalesce(deals.{{ col }}, 0) as {{ col }},
        {% endfor -%}
        {% for col in ['activities_total', 'calls', 'meetings', 'visits', 'emails', 'demos'] -%}
        coalesce(activities.{{ col }}, 0) as {{ col }},
        {% endfor -%}
        {% for col in ['csat_sum', 'csat_responses', 'nps_promoters', 'nps_detractors', 'nps_responses'] -%}
        coalesce(surveys.{{ col }}, 0) as {{ col }}{{ ',' if not loop.last }}
        {% endfor %}
    from grid
    left join {{ ref('int_sales__rep_deals_monthly') }} as deals
        on deals.rep_id = grid.rep_id and deals.month_start = grid.month_start
    left join {{ ref('int_sales__rep_activities_monthly') }} as activities
        on activities.rep_id = grid.rep_id and activities.month_start = grid.month_start
    left join {{ ref('int_sales__rep_surveys_monthly') }} as surveys
        on surveys.rep_id = grid.rep_id and surveys.month_start = grid.month_start
    left join (
        select rep_id, month_start, count(*) as new_customers
        from {{ ref('int_sales__new_customers') }}
        group by rep_id, month_start
    ) as new_customers
        on new_customers.rep_id = grid.rep_id and new_customers.month_start = grid.month_start
    left join {{ ref('fct_sales_targets') }} as targets
        on targets.level = 'rep' and targets.level_key = grid.rep_id
        and targets.period_type = 'month' and targets.period_start = grid.month_start
        and targets.metric = 'revenue'

)

select
    additive.rep_id || ':' || cast(additive.month_start as text) as rep_period_key,
    additive.rep_id,
    'month' as period_type,
    additive.month_start as period_start,
    org.team_id,
    coalesce(org.region, 'Unassigned') as region,
    org.manager_id,
    additive.revenue_target is not null as has_target,
    additive.revenue_target,
    {{ kpi_ratios() }},
    {% for col in kpi_additive_columns() -%}
    additive.{{ col }}{{ ',' if not loop.last }}
    {% endfor %}from additive
{{ join_as_was('org', 'additive.rep_id', "cast(additive.month_end + interval '1 day' as timestamp) at time zone " ~ company_setting('timezone') ~ " - interval '1 second'") }}
