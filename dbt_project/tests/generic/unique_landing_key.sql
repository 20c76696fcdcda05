{#- A staging model's key (the landing `id`, renamed) is unique among its rows.

    Landing's primary key (_source, id) already makes `id` unique within one source, so the
    rows are grouped (a scan of the whole table: 8 s for 5 M activities on the medium bench)
    only when that cannot settle it: when the landing table holds more than one source, or
    has no primary key. Both are found through the catalog and the key's index (the smallest
    source, then whether any row has a larger one), so with one source the test reads a
    few index pages. The result is the same as dbt's `unique`: the duplicated values. -#}
{% test unique_landing_key(model, column_name, entity) %}

with landing_key as (

    select count(*) > 0 as present
    from pg_constraint
    where conrelid = cast({{ dbt.string_literal(source('crm', entity) | string) }} as regclass)
        and contype = 'p'

),

first_source as (

    select min(_source) as name from {{ source('crm', entity) }}

),

must_group as (

    select
        not (select present from landing_key)
        -- min() over the key's leading column is one index probe (exists() was planned as
        -- a scan)
        or (
            select min(_source) from {{ source('crm', entity) }}
            where _source > (select name from first_source)
        ) is not null as yes

)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and (select yes from must_group)
group by {{ column_name }}
having count(*) > 1

{% endtest %}
