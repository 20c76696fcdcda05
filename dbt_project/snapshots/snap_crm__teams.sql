{#- History of each team's region, parent and manager (as-was hierarchy). -#}
{% snapshot snap_crm__teams %}
{{ config(unique_key='team_id', strategy='timestamp', updated_at='valid_as_of') }}

select
    team_id,
    name,
    region,
    parent_id,
    manager_id,
    coalesce(updated_at, _extracted_at) at time zone 'UTC' as valid_as_of
from {{ ref('stg_crm__teams') }}

{% endsnapshot %}
