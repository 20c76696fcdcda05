{#- Uniqueness that a unique index already enforces.

    The large incremental models keep their key under a unique index (post-hook
    `ensure_unique_index`), so PostgreSQL refuses a duplicate the moment a run writes one.
    Their uniqueness tests then have nothing left to find, and grouping the whole table to
    find it again cost 1.5-5 s a test in every daily build on the medium bench. -#}

{#- SQL true when `relation` has a valid, immediate, whole-table unique index on plain columns,
    all among `columns`, so no two rows share a value of `columns`. With nulls_allowed=false
    (GROUP BY semantics: nulls are equal) those index columns must also be NOT NULL. -#}
{% macro settled_by_unique_index(relation, columns, nulls_allowed=true) -%}
    exists (
        select 1
        from pg_index as i
        where i.indrelid = cast({{ dbt.string_literal(relation | string) }} as regclass)
            and i.indisunique
            and i.indisvalid
            and i.indimmediate
            and i.indpred is null
            and i.indexprs is null
            and (
                select bool_and(
                    a.attname = any(array[{{ sql_text_list(columns) }}])
                    {%- if not nulls_allowed %} and a.attnotnull{% endif %}
                )
                from pg_attribute as a
                where a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            )
    )
{%- endmacro %}

{#- Post-hook: a unique index on the model's key (the key columns made NOT NULL), once per
    table; a full refresh builds a new table and so gets a new index. -#}
{% macro ensure_unique_index(columns) -%}
    do $$
    begin
        if not {{ settled_by_unique_index(this, columns, nulls_allowed=false) }} then
            {%- for c in columns %}
            alter table {{ this }} alter column {{ adapter.quote(c) }} set not null;
            {%- endfor %}
            create unique index on {{ this }} ({{ sql_ident_list(columns) }});
        end if;
    end
    $$
{%- endmacro %}

{#- dbt's `unique`, unchanged except that a table whose unique index settles it is not
    grouped (the condition is evaluated once, before any row is read). A model given as a
    filtered subquery (a test `where`) has no catalog entry: grouped as before. -#}
{% macro postgres__test_unique(model, column_name) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
{%- if model is not string %}
    and not {{ settled_by_unique_index(model, [column_name]) }}
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endmacro %}
