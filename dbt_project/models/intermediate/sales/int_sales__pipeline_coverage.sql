-- Per level and month: open pipeline expected to close in the month against the part of
-- the month's revenue target not yet won. Null without a target or with nothing left.
-- A table, not a view: the funnel mart and the grain test both read it (the test alone
-- recomputed it in 4.6 s on the medium bench).
{{ config(materialized='table') }}
-- not materialized: each arm below reads the mart itself, in parallel, rather than a stored
-- copy of every opportunity
with opportunities as not materialized (

    select
        owner_id,
        coalesce(team_id, 'unassigned') as team_key,
        region,
        cast({{ dbt.date_trunc('month', 'expected_close_date') }} as date) as expected_month,
        closed_month,
        is_closed,
        is_won,
        amount_company
    from {{ ref('fct_opportunities') }}

),

-- the month's open pipeline and won amount per rep, team and region first (a few thousand
-- rows), then the four levels from those: grouping sets over the opportunities themselves
-- sorted the 1 M amounts four times. Each arm is summed on its own before the union: the
-- planner expects far more groups than there are, and sorted the union of both arms (3.9 M
-- rows on the large bench) on disk to group it (4.6 -> 1.8 s for the model's query there).
by_owner as (

    select owner_id, team_key, region, month_start,
        sum(open_amount) as open_pipeline,
        sum(won_amount) as won_amount
    from (
        select owner_id, team_key, region, expected_month as month_start,
            sum(case when not is_closed then coalesce(amount_company, 0) else 0 end)
                as open_amount,
            0 as won_amount
        from opportunities
        where expected_month is not null
        group by owner_id, team_key, region, expected_month
        union all
        select owner_id, team_key, region, closed_month,
            0, sum(case when is_won then coalesce(amount_company, 0) else 0 end)
        from opportunities
        where closed_month is not null
        group by owner_id, team_key, region, closed_month
    ) as amounts
    group by owner_id, team_key, region, month_start

),

by_level as (

    select
        {{ org_level_columns() }},
        month_start,
        sum(open_pipeline) as open_pipeline,
        sum(won_amount) as won_amount
    from by_owner
    group by {{ org_level_grouping_sets(['month_start']) }}

)

select
    by_level.level,
    by_level.level_key,
    by_level.month_start,
    by_level.open_pipeline,
    targets.target_value - by_level.won_amount as remaining_target,
    case when targets.target_value - by_level.won_amount > 0
        then round(by_level.open_pipeline / (targets.target_value - by_level.won_amount), 4)
    end as pipeline_coverage
from by_level
left join {{ ref('fct_sales_targets') }} as targets
    on targets.level = by_level.level
    and targets.level_key = by_level.level_key
    and targets.period_type = 'month'
    and targets.period_start = by_level.month_start
    and targets.metric = 'revenue'
