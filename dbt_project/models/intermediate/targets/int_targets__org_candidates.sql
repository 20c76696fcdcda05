-- Who can receive a share of a parent's month target, with a weight: regions under the
-- company, teams under their region, reps under the team they had at the end of the month
-- (or on their last day), prorated by the days they were employed in that month.
with months as (

    select * from {{ ref('int_calendar__months') }}
    where month_start <= (select max(period_start) + interval '1 year' from {{ ref('int_targets__explicit') }})
        and month_start >= (select min(period_start) from {{ ref('int_targets__explicit') }})

),

weights as (

    select * from {{ ref('target_decomposition_weights') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

rep_months as (

    select
        users.user_id,
        months.month_start,
        months.days_in_month,
        least(months.month_end, coalesce(users.leave_date, months.month_end))
            - greatest(months.month_start, coalesce(users.hire_date, months.month_start)) + 1
            as active_days,
        least(months.month_end, coalesce(users.leave_date, months.month_end)) as last_day
    from {{ ref('stg_crm__users') }} as users
    cross join months
    where coalesce(users.role, 'rep') = 'rep'

)

select distinct 'region' as level, 'company' as parent_level_key, teams.region as level_key,
    months.month_start, coalesce(weights.weight, 1) as weight
from teams
cross join months
left join weights on weights.level = 'region' and weights.level_key = teams.region

union all

select 'team', teams.region, teams.team_id, months.month_start, coalesce(weights.weight, 1)
from teams
cross join months
left join weights on weights.level = 'team' and weights.level_key = teams.team_id

union all

select 'rep', org.team_id, rep_months.user_id, rep_months.month_start,
    coalesce(weights.weight, 1) * rep_months.active_days / rep_months.days_in_month
from rep_months
{{ join_as_was('org', 'rep_months.user_id', "cast(rep_months.last_day + interval '1 day' as timestamp) at time zone " ~ company_setting('timezone') ~ " - interval '1 second'") }}
left join weights on weights.level = 'rep' and weights.level_key = rep_months.user_id
where rep_months.active_days > 0
    and org.team_id is not null
