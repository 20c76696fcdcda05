-- Current users (reps, managers, directors) with team, region and manager.
with users as (

    select * from {{ ref('stg_crm__users') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

)

select
    users.user_id as rep_id,
    users.name as rep_name,
    users.email,
    {{ normalise_locale('users.locale') }} as locale,
    coalesce(users.role, 'rep') as role,
    users.title,
    users.team_id,
    teams.team_name,
    coalesce(teams.region, 'Unassigned') as region,
    managers.user_id as manager_id,
    managers.name as manager_name,
    managers.email as manager_email,
    users.hire_date,
    users.leave_date,
    coalesce(
        users.active,
        users.leave_date is null
            or users.leave_date > (select as_of_date from {{ ref('int_calendar__as_of_date') }})
    ) as is_active,
    users._source
from users
left join teams
    on teams.team_id = users.team_id
left join users as managers
    on managers.user_id = coalesce(
        case when users.manager_id <> users.user_id then users.manager_id end,
        case when teams.manager_id <> users.user_id then teams.manager_id end
    )
