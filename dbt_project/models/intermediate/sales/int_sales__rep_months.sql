-- The rep x month grid the KPI facts are built on: every rep (role 'rep', or anyone who owns
-- deals or activities) for every month from the first month with data to the as-of month,
-- within their employment when hire/leave dates are known.
{{ config(materialized='table') }}

with as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

),

first_month as (

    select least(
        (select min(created_month) from {{ ref('fct_opportunities') }}),
        (select min(month_start) from {{ ref('int_sales__rep_activities_monthly') }})
    ) as month_start

),

sellers as (

    select user_id from {{ ref('stg_crm__users') }} where coalesce(role, 'rep') = 'rep'
    union
    select owner_id from {{ ref('fct_opportunities') }}
    union
    select rep_id from {{ ref('int_sales__rep_activities_monthly') }}

),

reps as (

    select users.user_id, users.hire_date, users.leave_date
    from {{ ref('stg_crm__users') }} as users
    inner join sellers on sellers.user_id = users.user_id

)

select
    reps.user_id as rep_id,
    months.month_start,
    months.month_end,
    months.quarter_start,
    months.year_start
from reps
cross join {{ ref('int_calendar__months') }} as months
where months.month_start >= (select month_start from first_month)
    and months.month_start <= (select as_of_date from as_of)
    and months.month_end >= coalesce(reps.hire_date, months.month_end)
    and months.month_start <= coalesce(reps.leave_date, months.month_start)
