-- Each user's versions from the snapshot as half-open validity intervals. The first version
-- is extended back to the beginning of time: events older than the first snapshot are
-- credited to the earliest hierarchy we know.
with versions as (

    select
        user_id,
        team_id,
        manager_id,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by user_id order by dbt_valid_from) as version_number
    from {{ ref('snap_crm__users') }}

)

select
    user_id,
    team_id,
    manager_id,
    case when version_number = 1 then cast('1900-01-01' as timestamptz) else dbt_valid_from at time zone 'UTC' end
        as valid_from,
    coalesce(dbt_valid_to at time zone 'UTC', cast('9999-12-31' as timestamptz)) as valid_to
from versions
