-- Who can receive a share of a parent's month target, with a weight: reps under the team
-- they had at the end of the month (or on their last day), prorated by the days they were
-- employed in the month; teams and regions that have such reps. Default weights are the
-- prorated headcount; target_decomposition_weights overrides them per region/team/rep.
with months as (

    select * from {{ ref('int_calendar__months') }}
    where month_start <= (select max(period_start) + interval '1 year' from {{ ref('int_targets__explicit') }})
        and month_start >= (select min(period_start) from {{ ref('int_targets__explicit') }})

),

weights as (

    select * from {{ ref('target_decomposition_weights') }}

),

rep_months as (

    select
        users.user_id,
        months.month_start,
        least(months.month_end, coalesce(users.leave_date, months.month_end))
            - greatest(months.month_start, coalesce(users.hire_date, months.month_start)) + 1
            as active_days,
        months.days_in_month,
        least(months.month_end, coalesce(users.leave_date, months.month_end)) as last_day
    from {{ ref('stg_crm__users') }} as users
    cross join months
    where coalesce(users.role, 'rep') = 'rep'

),

reps as (

    select
        org.region,
        org.team_id,
        rep_months.user_id as level_key,
        rep_months.month_start,
        1.0 * rep_months.active_days / rep_months.days_in_month as headcount
    from rep_months
    {{ join_as_was('org', 'rep_months.user_id', "cast(rep_months.last_day + interval '1 day' as timestamp) at time zone " ~ company_setting('timezone') ~ " - interval '1 second'") }}
    where rep_months.active_days > 0
        and org.team_id is not null

),

candidates as (

    select 'rep' as level, team_id as parent_level_key, level_key, month_start, headcount
    from reps
    union all
    select 'team', min(region), team_id, month_start, sum(headcount)
    from reps
    group by team_id, month_start
    union all
    select 'region', 'company', region, month_start, sum(headcount)
    from reps
    group by region, month_start

)

select
    candidates.level,
    candidates.parent_level_key,
    candidates.level_key,
    candidates.month_start,
    round(case
        when candidates.level = 'rep' then coalesce(weights.weight, 1) * candidates.headcount
        else coalesce(weights.weight, candidates.headcount)
    end, 6) as weight
from candidates
left join weights
    on weights.level = candidates.level
    and weights.level_key = candidates.level_key
