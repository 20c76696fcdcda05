-- The sales funnel per rep, team, region and company by entry cohort (month the
-- opportunity was created): entries per stage, conversions to the next stage, median days
-- in stage, win rates, sales cycle and pipeline coverage of the remaining target.
-- Medians are not decomposable: each group needs its own values in order. With grouping sets
-- percentile_cont sorted all 1.3 M stage rows three times (on text keys) and then every group
-- again. Instead each level is hash-aggregated on its own (no sort of the rows; the branches
-- run in parallel), the group's days collected into an array, and the median is
-- percentile_cont over that array: the same float8 values, so the same result.
with by_level as (

    {% for level, key in [('rep', 'owner_id'), ('team', 'team_id'), ('region', 'region'), ('company', none)] -%}
    select
        '{{ level }}' as level,
        {% if key %}coalesce({{ key }}, 'company'){% else %}'company'{% endif %} as level_key,
        month_start,
        funnel_stage,
        stage_order,
        count(*) as entries,
        case when stage_order < 5 then count(case when converted then 1 end) end as conversions,
        array_agg(cast(days_in_stage as double precision))
            filter (where days_in_stage is not null) as stage_days
    from {{ ref('int_sales__funnel_opportunity_stages') }}
    group by {% if key %}{{ key }}, {% endif %}month_start, funnel_stage, stage_order
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

),

stages as (

    select
        level,
        level_key,
        month_start,
        funnel_stage,
        stage_order,
        entries,
        conversions,
        (
            select percentile_cont(0.5) within group (order by stage_day)
            from unnest(by_level.stage_days) as stage_day
        ) as median_days_in_stage
    from by_level

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
