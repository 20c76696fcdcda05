-- Current teams with their region, parent team and manager.
select
    team_id,
    name as team_name,
    coalesce(region, 'Unassigned') as region,
    parent_id as parent_team_id,
    manager_id,
    _source
from {{ ref('stg_crm__teams') }}
