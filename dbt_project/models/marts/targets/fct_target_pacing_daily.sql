-- Pacing of revenue against target for every rep, team, region and the company, per day
-- up to the as-of date, for the month, quarter and year to date. Expected-to-date follows
-- the monthly targets (seasonality), linear within a month; projected finish extrapolates
-- the pace; at risk when the pace ratio is under company_settings.pacing_at_risk_threshold.
--
-- Incremental by day. A day's row depends only on its period's target, the node's month
-- targets (expected-to-date) and the revenue won from period start to that day, so a daily
-- run adds the new days of every period, carrying on from the actual stored for the last
-- day built, and rebuilds only the periods (level, key, period) whose inputs changed, from
-- the first day whose row can differ (carrying on from the actual of the day before):
--   - a different period target (or a period that appeared): from its start,
--   - a different month target of the node in a month the period spans (expected-to-date):
--     from that month,
--   - a different won revenue on a day the period spans (the `revenue` column keeps it):
--     from that day,
--   - a different at-risk threshold (the flag no longer matches the stored pace): from its
--     start.
-- The post-hook drops days after the as-of date and periods whose target is gone. A unique
-- index on the grain (level, level_key, period_type, as_of_date) makes PostgreSQL refuse a
-- second row for a node, period type and day, and the mart suite's grain rule reads it
-- instead of grouping 1 M rows (1.6 s).
{{ config(
    materialized='incremental',
    unique_key='pacing_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=[
        "{{ delete_stale_pacing_rows() }}",
        "{{ ensure_unique_index(['pacing_key']) }}",
        "{{ ensure_unique_index(['level', 'level_key', 'period_type', 'as_of_date']) }}",
        "{{ ensure_not_null_tested_columns() }}",
    ],
) }}

{%- set at_risk_threshold = company_setting('pacing_at_risk_threshold', 'numeric') %}

with as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

),

periods as (

    select
        level,
        level_key,
        period_type,
        period_start,
        target_value as target,
        {{ pacing_period_end('period_type', 'period_start') }} as period_end
    from {{ ref('fct_sales_targets') }}
    where metric = 'revenue'

),

{% if is_incremental() -%}
{#- the last day built, as a literal so the planner sees how few rows are new -#}
{%- set pacing_state = pacing_built_state() %}
{%- set last_day = pacing_state.last_day %}

-- each period as built: its target on the last day it holds (for a period still running,
-- the last day built, with what it had won by then). One narrow pass over the table.
built as (

    select level, level_key, period_type, period_start, as_of_date, target, actual
    from {{ this }}
    where as_of_date = least(
        {{ last_day }},
        {{ pacing_period_end('period_type', 'period_start') }} - 1
    )

),

-- periods whose own target differs from the one built (or that are new, or gone)
changed_periods as (

    select
        coalesce(periods.level, built.level) as level,
        coalesce(periods.level_key, built.level_key) as level_key,
        coalesce(periods.period_type, built.period_type) as period_type,
        coalesce(periods.period_start, built.period_start) as period_start
    from (select * from periods where period_start <= {{ last_day }}) as periods
    full outer join built
        on built.level = periods.level
        and built.level_key = periods.level_key
        and built.period_type = periods.period_type
        and built.period_start = periods.period_start
    where periods.target is distinct from built.target

),

-- node-days whose won revenue differs from the one built
changed_days as (

    -- grouped, not joined: a full join sorted the table's 330 k rows with revenue on their
    -- text keys for a merge join (1.5-3 s of a medium daily build); a hash aggregate of
    -- both sides reads them once. Each node-day is built once per period type, so it has
    -- up to three built rows, and they must agree too.
    select level, level_key, date_day
    from (
        select level, level_key, date_day, revenue, true as is_new
        from {{ ref('int_targets__revenue_daily') }}
        where date_day <= {{ last_day }} and revenue <> 0
        {%- if pacing_state.has_revenue %}
        union all
        select level, level_key, as_of_date, revenue, false
        from {{ this }}
        where revenue <> 0
        {%- endif %}
    ) as both_sides
    group by level, level_key, date_day
    having max(revenue) filter (where is_new) is distinct from max(revenue) filter (where not is_new)
        or min(revenue) filter (where not is_new) is distinct from max(revenue) filter (where not is_new)

),

-- every period to build again, with the first day whose row can differ (the actual is
-- cumulative, and expected-to-date adds up the months before)
dirty_from as (

    -- the period's own target: every day
    select level, level_key, period_type, period_start, period_start as from_day
    from changed_periods
    union all
    -- a month target changes expected-to-date in the quarter and year around it, from that
    -- month on
    select
        periods.level, periods.level_key, periods.period_type, periods.period_start,
        months.period_start
    from periods
    inner join changed_periods as months
        on months.level = periods.level
        and months.level_key = periods.level_key
        and months.period_type = 'month'
        and months.period_start >= periods.period_start
        and months.period_start < periods.period_end
    union all
    -- revenue on a day the period spans, from that day on (a table built before it kept
    -- each day's revenue has no day to trust: from the start)
    select
        periods.level, periods.level_key, periods.period_type, periods.period_start,
        {{ 'changed_days.date_day' if pacing_state.has_revenue else 'periods.period_start' }}
    from periods
    inner join changed_days
        on changed_days.level = periods.level
        and changed_days.level_key = periods.level_key
        and changed_days.date_day >= periods.period_start
        and changed_days.date_day < periods.period_end
    union all
    -- the at-risk threshold
    select level, level_key, period_type, period_start, period_start
    from {{ this }}
    where is_at_risk is distinct from coalesce(pace_ratio < {{ at_risk_threshold }}, false)

),

dirty as (

    select
        level,
        level_key,
        period_type,
        period_start,
        -- days after the last one built are new rows anyway
        least(min(from_day), {{ last_day }} + 1) as from_day
    from dirty_from
    group by level, level_key, period_type, period_start

),

-- a changed period from its first differing day, carrying on from the actual stored in the
-- row of the day before (rebuilt from the period's start, a year period rewrote up to 365
-- rows for one changed day: 37 k rows in a medium daily build); from the period's start
-- when that row is missing
dirty_spans as (

    select
        periods.*,
        dirty.from_day,
        day_before.actual as actual_day_before
    from periods
    inner join dirty
        on dirty.level = periods.level
        and dirty.level_key = periods.level_key
        and dirty.period_type = periods.period_type
        and dirty.period_start = periods.period_start
    left join {{ this }} as day_before
        on dirty.from_day > periods.period_start
        and day_before.level = periods.level
        and day_before.level_key = periods.level_key
        and day_before.period_type = periods.period_type
        and day_before.as_of_date = dirty.from_day - 1
        and day_before.period_start = periods.period_start

),

-- the periods to build: a changed one as above; any other from the first day not built
-- yet, carrying on from what it had won by the last day built
period_spans as (

    select
        level,
        level_key,
        period_type,
        period_start,
        target,
        period_end,
        case when actual_day_before is null then period_start else from_day end as first_day,
        actual_day_before as carried_actual
    from dirty_spans
    union all
    select periods.*, greatest(periods.period_start, {{ last_day }} + 1), carried.actual
    from periods
    left join built as carried
        on carried.level = periods.level
        and carried.level_key = periods.level_key
        and carried.period_type = periods.period_type
        and carried.period_start = periods.period_start
        and carried.as_of_date = {{ last_day }}
    where periods.period_end > {{ last_day }} + 1
        and not exists (
            select 1 from dirty
            where dirty.level = periods.level
                and dirty.level_key = periods.level_key
                and dirty.period_type = periods.period_type
                and dirty.period_start = periods.period_start
        )

),
{%- endif %}

days as (

    select
        periods.level,
        periods.level_key,
        periods.period_type,
        periods.period_start,
        periods.target,
        calendar.date_day,
        calendar.month_start,
        calendar.day_of_month
        {%- if is_incremental() %},
        periods.carried_actual
        {%- endif %}
    {%- if is_incremental() %}
    from period_spans as periods
    inner join {{ ref('int_calendar__days') }} as calendar
        on calendar.date_day >= periods.first_day
    {%- else %}
    from periods
    inner join {{ ref('int_calendar__days') }} as calendar
        on calendar.date_day >= periods.period_start
    {%- endif %}
        and calendar.date_day < periods.period_end
        and calendar.date_day <= (select as_of_date from as_of)

),

paced as (

    select
        days.*,
        coalesce(revenue.revenue, 0) as day_revenue,
        {%- if is_incremental() %}
        coalesce(days.carried_actual, 0) +
        {%- endif %}
        sum(coalesce(revenue.revenue, 0)) over (
            partition by days.level, days.level_key, days.period_type, days.period_start
            order by days.date_day
        ) as actual,
        case days.period_type
            when 'month' then 0
            when 'quarter' then base.expected_before_in_quarter
            else base.expected_before_in_year
        end + base.target_value * days.day_of_month / base.days_in_month as expected_to_date
    from days
    left join {{ ref('int_targets__revenue_daily') }} as revenue
        on revenue.level = days.level
        and revenue.level_key = days.level_key
        and revenue.date_day = days.date_day
    left join {{ ref('int_targets__month_pacing_base') }} as base
        on base.level = days.level
        and base.level_key = days.level_key
        and base.month_start = days.month_start

)

select
    level || ':' || level_key || ':' || period_type || ':' || cast(date_day as text) as pacing_key,
    level,
    level_key,
    date_day as as_of_date,
    period_type,
    period_start,
    target,
    actual,
    round(expected_to_date, 2) as expected_to_date,
    case when expected_to_date > 0 then round(actual / expected_to_date, 4) end as pace_ratio,
    case when expected_to_date > 0 then round(actual * target / expected_to_date, 2) end
        as projected_finish,
    coalesce(round(actual / nullif(expected_to_date, 0), 4)
        < {{ at_risk_threshold }}, false) as is_at_risk,
    day_revenue as revenue
from paced
