{#- The KPI columns that are ratios, from additive columns available in the current scope
    (so monthly, quarterly and yearly facts compute them the same way). -#}
{% macro kpi_ratios() -%}
    case when revenue_target > 0 then round(revenue / revenue_target, 4) end as attainment,
    case when deals_won + deals_lost > 0
        then round(deals_won::numeric / (deals_won + deals_lost), 4) end as win_rate_count,
    case when revenue + lost_amount > 0
        then round(revenue / (revenue + lost_amount), 4) end as win_rate_amount,
    case when deals_won > 0 then round(revenue / deals_won, 2) end as avg_deal_size,
    case when won_cycle_count > 0
        then round(won_cycle_days_sum::numeric / won_cycle_count, 1) end as avg_sales_cycle_days,
    case when csat_responses > 0 then round(csat_sum::numeric / csat_responses, 2) end as csat_avg,
    case when nps_responses > 0
        then round(100.0 * (nps_promoters - nps_detractors) / nps_responses, 1) end as nps
{%- endmacro %}

{#- The additive KPI columns (summed in rollups). -#}
{% macro kpi_additive_columns() -%}
    {{ return(['revenue', 'new_customers', 'deals_won', 'deals_lost', 'lost_amount',
        'won_cycle_days_sum', 'won_cycle_count', 'activities_total', 'calls', 'meetings',
        'visits', 'emails', 'demos', 'csat_sum', 'csat_responses', 'nps_promoters',
        'nps_detractors', 'nps_responses', 'opportunities_created', 'pipeline_created']) }}
{%- endmacro %}
