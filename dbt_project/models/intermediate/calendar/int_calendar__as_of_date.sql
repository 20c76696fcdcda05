-- The business date the marts describe: var('as_of_date') when given, else the latest event
-- in the data (never the wall clock, so a rebuild of the same data gives the same marts).
-- The latest activity is read from the landing table itself, with the staging view's own
-- filter (live rows of the selected source; the view passes occurred_at unchanged), through
-- an index on raw.activities (occurred_at) that the pre-hook keeps: PostgreSQL answers max()
-- from the index's last entries only on a plain table, and through the view it aggregated
-- all 5 M activities of the medium bench (1.2 s alone, 2-3 s in a build, on the path of
-- every model that reads the as-of date). The engagement window reads the same index.
{{ config(pre_hook="{{ ensure_landing_index('activities', ['occurred_at']) }}") }}

with events as (

    select max(greatest(created_at, closed_at, updated_at)) as latest_at
    from {{ ref('stg_crm__opportunities') }}
    union all
    select max(cast(order_date as timestamp) at time zone {{ company_setting('timezone') }})
    from {{ ref('stg_crm__orders') }}
    union all
    select max(activities.occurred_at)
    from {{ source('crm', 'activities') }} as activities
    where activities._deleted_at is null
    {{ crm_source_filter() }}

)

select
    {% if var('as_of_date') is not none -%}
    cast({{ dbt.string_literal(var('as_of_date')) }} as date)
    {%- else -%}
    coalesce({{ local_date('max(latest_at)') }}, cast('2000-01-01' as date))
    {%- endif %} as as_of_date
{#- with the var set, one row and no scan (`from events` returned one row per event source) #}
{%- if var('as_of_date') is none %}
from events
{%- endif %}
