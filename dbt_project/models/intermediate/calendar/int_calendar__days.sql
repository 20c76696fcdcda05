-- One row per day from the first year with data to the end of the last year with data or
-- targets, with calendar and fiscal periods (fiscal year starts in the configured month).
-- The bounds take the local date of the earliest/latest instant (the same day as the
-- earliest/latest local date), converting one value instead of every row.
with bounds as (

    select
        least(
            (select {{ local_date('min(created_at)') }} from {{ ref('stg_crm__opportunities') }}),
            (select {{ local_date('min(occurred_at)') }} from {{ ref('stg_crm__activities') }}),
            (select min(order_date) from {{ ref('stg_crm__orders') }}),
            (select min(period_start) from {{ ref('stg_crm__sales_targets') }}),
            (select as_of_date from {{ ref('int_calendar__as_of_date') }})
        ) as first_day,
        greatest(
            (select as_of_date from {{ ref('int_calendar__as_of_date') }}),
            (select max(period_start) from {{ ref('stg_crm__sales_targets') }}),
            (select {{ local_date('max(closed_at)') }} from {{ ref('stg_crm__opportunities') }})
        ) as last_day,
        {{ company_setting('fiscal_year_start_month', 'integer') }} as fy_month

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
