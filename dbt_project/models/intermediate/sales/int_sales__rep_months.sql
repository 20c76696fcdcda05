-- The rep x month grid the KPI facts are built on: every rep (role 'rep', or anyone who owns
-- deals or activities) for every month from the first month with data to the as-of month,
-- within their employment when hire/leave dates are known.
with as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

),

first_month as (

    select least(
        (select min(created_month) from {{ ref('fct_opportunities') }}),
        (select min({{ local_month('occurred_at') }}) from {{ ref('stg_crm__activities') }})
    ) as month_start

),

reps as (

    select user_id, hire_date, leave_date
    from {{ ref('stg_crm__users') }} as users
    where coalesce(role, 'rep') = 'rep'
        or exists (select 1 from {{ ref('fct_opportunities') }} as o where o.owner_id = users.user_id)
        or exists (select 1 from {{ ref('stg_crm__activities') }} as a where a.owner_id = users.user_id)

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
