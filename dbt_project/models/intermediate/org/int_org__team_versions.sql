-- Each team's versions (region, manager) as validity intervals; first version extended back.
with versions as (

    select
        team_id,
        region,
        manager_id,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by team_id order by dbt_valid_from) as version_number
    from {{ ref('snap_crm__teams') }}

)

select
    team_id,
    coalesce(region, 'Unassigned') as region,
    manager_id,
    case when version_number = 1 then cast('1900-01-01' as timestamptz) else dbt_valid_from at time zone 'UTC' end
        as valid_from,
    coalesce(dbt_valid_to at time zone 'UTC', cast('9999-12-31' as timestamptz)) as valid_to
from versions
