-- Every target after decomposition: month targets down the organisation (company -> region
-- -> team -> rep) and their quarter and year totals per node. A month's parent is the same
-- month one level up (at the top of the organisation: its own quarter); a quarter's parent
-- is its year. Quarter and year rows are the sums of their months.
with months as (

    select * from {{ ref('int_targets__company_months') }}
    union all
    select * from {{ ref('int_targets__region_months') }}
    union all
    select * from {{ ref('int_targets__team_months') }}
    union all
    select * from {{ ref('int_targets__rep_months') }}

),

calendar as (

    select * from {{ ref('int_calendar__months') }}

),

explicit as (

    select * from {{ ref('int_targets__explicit') }}

),

periods as (

    select
        months.*,
        calendar.quarter_start,
        calendar.year_start,
        count(months.parent_target_key) over (
            partition by months.level, months.level_key, months.metric, calendar.quarter_start
        ) as months_with_parent
    from months
    inner join calendar on calendar.month_start = months.month_start

),

rows as (

    select
        level, level_key, 'month' as period_type, month_start as period_start, metric,
        target_value,
        is_pinned,
        case
            when parent_target_key is not null then parent_target_key
            when months_with_parent = 0
                then {{ target_key('level', 'level_key', "'quarter'", 'quarter_start', 'metric') }}
        end as parent_target_key
    from periods
    union all
    select
        level, level_key, 'quarter', quarter_start, metric, sum(target_value), bool_and(is_pinned),
        {{ target_key('level', 'level_key', "'year'", 'year_start', 'metric') }}
    from periods
    group by level, level_key, quarter_start, year_start, metric
    union all
    select level, level_key, 'year', year_start, metric, sum(target_value), bool_and(is_pinned), null
    from periods
    group by level, level_key, year_start, metric

)

select
    {{ target_key('rows.level', 'rows.level_key', 'rows.period_type', 'rows.period_start', 'rows.metric') }}
        as target_key,
    rows.level,
    rows.level_key,
    rows.parent_target_key,
    rows.period_type,
    rows.period_start,
    rows.metric,
    cast(rows.target_value as numeric(18, 2)) as target_value,
    explicit.target_id is not null as is_explicit,
    rows.is_pinned,
    explicit.target_id as source_target_id
from rows
left join explicit
    on explicit.level = rows.level
    and explicit.level_key = rows.level_key
    and explicit.period_type = rows.period_type
    and explicit.period_start = rows.period_start
    and explicit.metric = rows.metric
