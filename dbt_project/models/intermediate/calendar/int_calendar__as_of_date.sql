-- The business date the marts describe: var('as_of_date') when given, else the latest event
-- in the data (never the wall clock, so a rebuild of the same data gives the same marts).
with events as (

    select max(greatest(created_at, closed_at, updated_at)) as latest_at
    from {{ ref('stg_crm__opportunities') }}
    union all
    select max(occurred_at) from {{ ref('stg_crm__activities') }}
    union all
    select max(cast(order_date as timestamp) at time zone {{ company_setting('timezone') }})
    from {{ ref('stg_crm__orders') }}

)

select
    {% if var('as_of_date') is not none -%}
    cast({{ dbt.string_literal(var('as_of_date')) }} as date)
    {%- else -%}
    coalesce({{ local_date('max(latest_at)') }}, cast('2000-01-01' as date))
    {%- endif %} as as_of_date
from events
