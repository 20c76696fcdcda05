-- Outcomes of each entry cohort (opportunities created in the month) per rep, team, region
-- and company: won / lost counts and amounts and the sales cycle of won deals.
-- A table, not a view: its data test reads it whole, and as a view it was computed twice per
-- build (for the test and again inside fct_funnel_monthly); the test took 1.3 s of node time
-- on the medium bench.
{{ config(materialized='table') }}
with opportunities as (

    select
        *,
        coalesce(team_id, 'unassigned') as team_key
    from {{ ref('fct_opportunities') }}
    where created_month is not null

)

select
    {{ org_level_columns() }},
    created_month as month_start,
    count(case when is_won then 1 end) as won_count,
    count(case when is_closed and not is_won then 1 end) as lost_count,
    sum(case when is_won then coalesce(amount_company, 0) else 0 end) as won_amount,
    sum(case when is_closed and not is_won then coalesce(amount_company, 0) else 0 end) as lost_amount,
    avg(case when is_won then sales_cycle_days end) as avg_sales_cycle_days
from opportunities
group by {{ org_level_grouping_sets(['created_month']) }}
