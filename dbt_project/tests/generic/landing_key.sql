{#- A staging model's key (the landing `id`, renamed) and its `_source` are never null, and
    the key is unique among the model's rows.

    Landing's primary key (_source, id) already makes both columns NOT NULL and `id` unique
    within one source, so the rows are read (a scan of the whole table: 8 s for 5 M
    activities on the medium bench) only when that cannot settle it: when the landing table
    holds more than one source, or has no primary key. Both are found through the catalog
    and the key's index (the smallest source, then whether any row has a larger one), so
    with one source the test reads a few index pages. One test, one node, for what took
    dbt's `unique` and two `not_null` tests. The rows returned are the offending keys with
    their count (a null key or source shows as a row with a null key). -#}
{% test landing_key(model, column_name, entity) %}

with landing_key as (

    select count(*) > 0 as present
    from pg_constraint
    where conrelid = cast({{ dbt.string_literal(source('crm', entity) | string) }} as regclass)
        and contype = 'p'

),

first_source as (

    select min(_source) as name from {{ source('crm', entity) }}

),

must_read as (

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
    case when _source is not null then {{ column_name }} end as key_value,
    count(*) as n_records
from {{ model }}
where (select yes from must_read)
group by case when _source is not null then {{ column_name }} end
having count(*) > 1 or case when _source is not null then {{ column_name }} end is null

{% endtest %}
