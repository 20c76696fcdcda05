-- Deal results per rep and month: closed deals by close month, pipeline by creation month.
-- `not materialized`: read twice, the CTE was materialized whole (every column of 500 k
-- opportunities, spilled to disk) and rescanned; inlined, each branch scans only its columns.
-- A table, not a view: its data test reads it whole, and as a view it was computed twice per
-- build (for the test and again inside fct_rep_kpis_monthly); the test took 0.7 s of node time
-- on the medium bench.
{{ config(materialized='table') }}
with opportunities as not materialized (

    select * from {{ ref('fct_opportunities') }}

),

closed as (

    select
        owner_id as rep_id,
        closed_month as month_start,
        sum(case when is_won then amount_company else 0 end) as revenue,
        count(case when is_won then 1 end) as deals_won,
        count(case when not is_won then 1 end) as deals_lost,
        sum(case when not is_won then coalesce(amount_company, 0) else 0 end) as lost_amount,
        sum(case when is_won then sales_cycle_days end) as won_cycle_days_sum,
        count(case when is_won and sales_cycle_days is not null then 1 end) as won_cycle_count
    from opportunities
    where is_closed and closed_month is not null
    group by owner_id, closed_month

),

created as (

    select
        owner_id as rep_id,
        created_month as month_start,
        count(*) as opportunities_created,
        sum(coalesce(amount_company, 0)) as pipeline_created
    from opportunities
    where created_month is not null
    group by owner_id, created_month

)

select
    coalesce(closed.rep_id, created.rep_id) as rep_id,
    coalesce(closed.month_start, created.month_start) as month_start,
    coalesce(closed.revenue, 0) as revenue,
    coalesce(closed.deals_won, 0) as deals_won,
    coalesce(closed.deals_lost, 0) as deals_lost,
    coalesce(closed.lost_amount, 0) as lost_amount,
    coalesce(closed.won_cycle_days_sum, 0) as won_cycle_days_sum,
    coalesce(closed.won_cycle_count, 0) as won_cycle_count,
    coalesce(created.opportunities_created, 0) as opportunities_created,
    coalesce(created.pipeline_created, 0) as pipeline_created
from closed
full outer join created
    on created.rep_id = closed.rep_id
    and created.month_start = closed.month_start
