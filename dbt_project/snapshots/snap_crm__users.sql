{#- History of each user's team, manager, role and dates (as-was hierarchy).
    Timestamp strategy on the source's updated_at (the CRM's clock), falling back to the
    extract time for sources without one. -#}
{% snapshot snap_crm__users %}
{{ config(unique_key='user_id', strategy='timestamp', updated_at='valid_as_of') }}

select
    user_id,
    name,
    email,
    role,
    team_id,
    manager_id,
    hire_date,
    leave_date,
    active,
    coalesce(updated_at, _extracted_at) at time zone 'UTC' as valid_as_of
from {{ ref('stg_crm__users') }}

{% endsnapshot %}
