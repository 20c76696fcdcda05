-- One row per day from the first year with data to the end of the last year with data or
-- targets, with calendar and fiscal periods (fiscal year starts in the configured month).
-- The bounds take the local date of the earliest/latest instant (the same day as the
-- earliest/latest local date), converting one value instead of every row.
with opportunity_bounds as (

    select
        {{ local_date('min(created_at)') }} as first_day,
        {{ local_date('max(closed_at)') }} as last_day
    from {{ ref('stg_crm__opportunities') }}

),

-- the first day of every source but activities (one scan of opportunities, not two)
other_first_day as (

    select
        least(
            (select first_day from opportunity_bounds),
            (select min(order_date) from {{ ref('stg_crm__orders') }}),
            (select min(period_start) from {{ ref('stg_crm__sales_targets') }}),
            (select as_of_date from {{ ref('int_calendar__as_of_date') }})
        ) as first_day

),

-- its local midnight as an instant, computed once (in the activities' qual it was converted
-- again for every row)
other_first_instant as (

    select cast(first_day as timestamp) at time zone {{ company_setting('timezone') }} as starts_at
    from other_first_day

),

bounds as (

    select
        least(
            other_first_day.first_day,
            -- an activity only moves the first day if it is earlier than every other source:
            -- the bound is a qual that reaches the scan (the view's CTEs keep min() from it),
            -- so the 5 M activities are filtered, not aggregated
            (select {{ local_date('min(occurred_at)') }} from {{ ref('stg_crm__activities') }}
             where occurred_at < (select starts_at from other_first_instant))
        ) as first_day,
        greatest(
            (select as_of_date from {{ ref('int_calendar__as_of_date') }}),
            (select max(period_start) from {{ ref('stg_crm__sales_targets') }}),
            (select last_day from opportunity_bounds)
        ) as last_day,
        {{ company_setting('fiscal_year_start_month', 'integer') }} as fy_month
    from other_first_day

),

days as (

    select
        cast(day as date) as date_day,
        fy_month
    from bounds,
        generate_series(
            cast(date_trunc('year', first_day) - interval '1 year' as date),
            cast(date_trunc('year', last_day) + interval '2 year' - interval '1 day' as date),
            interval '1 day'
        ) as day

),

fiscal as (

    select
        date_day,
        fy_month,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        make_date(
            cast(extract(year from date_day) as integer)
                - case when extract(month from date_day) < fy_month then 1 else 0 end,
            fy_month,
            1
        ) as fiscal_year_start
    from days

)

select
    date_day,
    month_start,
    cast(fiscal_year_start
        + make_interval(months => 3 * (cast({{ dbt.datediff('fiscal_year_start', 'month_start', 'month') }} as integer) / 3))
        as date) as quarter_start,
    fiscal_year_start as year_start,
    cast(extract(year from fiscal_year_start) as integer)
        + case when fy_month = 1 then 0 else 1 end as fiscal_year,
    cast({{ dbt.datediff('fiscal_year_start', 'month_start', 'month') }} as integer) / 3 + 1 as fiscal_quarter,
    cast({{ dbt.datediff('fiscal_year_start', 'month_start', 'month') }} as integer) + 1 as fiscal_month,
    cast(extract(month from date_day) as integer) as month_of_year,
    cast(extract(day from date_day) as integer) as day_of_month,
    cast(extract(isodow from date_day) as integer) as iso_day_of_week,
    cast(extract(isodow from date_day) as integer) >= 6 as is_weekend,
    cast({{ dbt.date_trunc('month', 'date_day') }} + interval '1 month' - interval '1 day' as date) as month_end,
    cast(extract(day from {{ dbt.date_trunc('month', 'date_day') }} + interval '1 month' - interval '1 day') as integer)
        as days_in_month
from fiscal
