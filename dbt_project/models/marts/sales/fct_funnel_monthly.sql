-- The sales funnel per rep, team, region and company by entry cohort (month the
-- opportunity was created): entries per stage, conversions to the next stage, median days
-- in stage, win rates, sales cycle and pipeline coverage of the remaining target.
with stages as (

    select
        {{ org_level_columns(team='team_id') }},
        month_start,
        funnel_stage,
        stage_order,
        count(*) as entries,
        case when stage_order < 5 then count(case when converted then 1 end) end as conversions,
        percentile_cont(0.5) within group (order by days_in_stage) as median_days_in_stage
    from {{ ref('int_sales__funnel_opportunity_stages') }}
    group by {{ org_level_grouping_sets(['month_start', 'funnel_stage', 'stage_order'], team='team_id') }}

)

select
    stages.level || ':' || stages.level_key || ':' || cast(stages.month_start as text)
        || ':' || stages.funnel_stage as funnel_key,
    stages.level,
    stages.level_key,
    stages.month_start,
    stages.funnel_stage,
    stages.stage_order,
    stages.entries,
    stages.conversions,
    case when stages.stage_order < 5
        then round(stages.conversions::numeric / stages.entries, 4) end as conversion_rate,
    round(cast(stages.median_days_in_stage as numeric), 2) as median_days_in_stage,
    outcomes.won_count,
    outcomes.lost_count,
    case when outcomes.won_count + outcomes.lost_count > 0
        then round(outcomes.won_count::numeric / (outcomes.won_count + outcomes.lost_count), 4)
    end as win_rate_count,
    case when outcomes.won_amount + outcomes.lost_amount > 0
        then round(outcomes.won_amount / (outcomes.won_amount + outcomes.lost_amount), 4)
    end as win_rate_amount,
    round(outcomes.avg_sales_cycle_days, 1) as avg_sales_cycle_days,
    coverage.pipeline_coverage
from stages
inner join {{ ref('int_sales__funnel_outcomes') }} as outcomes
    on outcomes.level = stages.level
    and outcomes.level_key = stages.level_key
    and outcomes.month_start = stages.month_start
left join {{ ref('int_sales__pipeline_coverage') }} as coverage
    on coverage.level = stages.level
    and coverage.level_key = stages.level_key
    and coverage.month_start = stages.month_start
