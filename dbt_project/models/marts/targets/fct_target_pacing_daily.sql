-- Pacing of revenue against target for every rep, team, region and the company, per day
-- up to the as-of date, for the month, quarter and year to date. Expected-to-date follows
-- the monthly targets (seasonality), linear within a month; projected finish extrapolates
-- the pace; at risk when the pace ratio is under company_settings.pacing_at_risk_threshold.
with periods as (

    select * from {{ ref('fct_sales_targets') }}
    where metric = 'revenue'

),

days as (

    select
        periods.level,
        periods.level_key,
        periods.period_type,
        periods.period_start,
        periods.target_value as target,
        calendar.date_day,
        calendar.month_start,
        calendar.day_of_month
    from periods
    inner join {{ ref('int_calendar__days') }} as calendar
        on calendar.date_day >= periods.period_start
        and calendar.date_day < periods.period_start + case periods.period_type
            when 'month' then interval '1 month' when 'quarter' then interval '3 month'
            else interval '1 year' end
        and calendar.date_day <= (select as_of_date from {{ ref('int_calendar__as_of_date') }})

),

paced as (

    select
        days.*,
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
        < {{ company_setting('pacing_at_risk_threshold', 'numeric') }}, false) as is_at_risk
from paced
