-- The business date the marts describe: var('as_of_date') when given, else the latest event
-- in the data (never the wall clock, so a rebuild of the same data gives the same marts).
with other_events as (

    select max(greatest(created_at, closed_at, updated_at)) as latest_at
    from {{ ref('stg_crm__opportunities') }}
    union all
    select max(cast(order_date as timestamp) at time zone {{ company_setting('timezone') }})
    from {{ ref('stg_crm__orders') }}

),

other_latest as (

    select max(latest_at) as latest_at from other_events

),

-- activities only matter where they are not earlier than every other event: that bound is a
-- qual that reaches the scan of the landing table (the staging view's CTEs keep max() from
-- any index), so 5 M activities are filtered instead of aggregated
events as (

    select latest_at from other_latest
    union all
    select max(occurred_at) from {{ ref('stg_crm__activities') }}
    where occurred_at >= coalesce((select latest_at from other_latest), '-infinity')

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
