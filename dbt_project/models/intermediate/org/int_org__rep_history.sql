-- As-was hierarchy: for every user and interval, the team, region and manager they had.
-- Look up an event with `valid_from <= event_at < valid_to`.
select
    u.user_id,
    u.team_id,
    coalesce(t.region, 'Unassigned') as region,
    coalesce(u.manager_id, t.manager_id) as manager_id,
    greatest(u.valid_from, coalesce(t.valid_from, u.valid_from)) as valid_from,
    least(u.valid_to, coalesce(t.valid_to, u.valid_to)) as valid_to
from {{ ref('int_org__user_versions') }} as u
left join {{ ref('int_org__team_versions') }} as t
    on t.team_id = u.team_id
    and t.valid_from < u.valid_to
    and t.valid_to > u.valid_from
