{#- Not-null tests that a NOT NULL constraint already settles.

    The incremental facts keep growing, and their `not_null` tests read every row in every
    daily build (1.3 s of SQL on the medium bench, more each day) to look for nulls only a
    run's new rows could bring. A model that opts in (post-hook
    `ensure_not_null_tested_columns`) makes those columns NOT NULL once; PostgreSQL then
    refuses a null the moment a run writes one (the run fails, and its rows never reach the
    mart), and the test reads the catalog instead of the rows. -#}

{#- SQL true when `column` of `relation` is NOT NULL. -#}
{% macro settled_by_not_null(relation, column) -%}
    exists (
        select 1
        from pg_attribute as a
        where a.attrelid = cast({{ dbt.string_literal(relation | string) }} as regclass)
            and a.attname = {{ dbt.string_literal(column | replace('"', '')) }}
            and a.attnotnull
            and not a.attisdropped
    )
{%- endmacro %}

{#- The columns of this model that a `not_null` or `unique_and_not_null` test of severity
    error checks over the whole table (no `where`): the ones a NOT NULL constraint can
    settle. -#}
{% macro not_null_tested_columns() -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
                if node.resource_type == 'test'
                and (node.test_metadata or {}).get('name') in ('not_null', 'unique_and_not_null')
                and node.attached_node == model.unique_id
                and not node.config.get('where')
                and (node.config.get('severity') or 'error') | lower == 'error' -%}
            {%- do columns.append(node.column_name | replace('"', '')) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(columns | unique | sort) -}}
{%- endmacro %}

{#- Post-hook of a model whose tested columns are never null, not even for a moment (no
    marker rows with null measures): the columns its `not_null` tests check become NOT NULL,
    in one ALTER TABLE (one scan) for those that are not yet, so once per table. -#}
{% macro ensure_not_null_tested_columns() -%}
    {%- set columns = not_null_tested_columns() -%}
    {%- if columns -%}
    do $ensure_not_null$
    declare
        missing text;
    begin
        select string_agg(format('alter column %I set not null', a.attname), ', ')
        into missing
        from pg_attribute as a
        where a.attrelid = cast({{ dbt.string_literal(this.render()) }} as regclass)
            and a.attname = any(array[{{ sql_text_list(columns) }}])
            and not a.attnotnull
            and not a.attisdropped;
        if missing is not null then
            execute {{ dbt.string_literal('alter table ' ~ this.render() ~ ' ') }} || missing;
        end if;
    end
    $ensure_not_null$
    {%- endif -%}
{%- endmacro %}

{#- dbt's `not_null`, unchanged except that a column under a NOT NULL constraint is not
    scanned (the condition is evaluated once, before any row is read). A model given as a
    filtered subquery (a test `where`) has no catalog entry: scanned as before. -#}
{% macro postgres__test_not_null(model, column_name) %}

{% set column_list = '*' if should_store_failures() else column_name %}

select {{ column_list }}
from {{ model }}
where {{ column_name }} is null
{%- if model is not string %}
    and not {{ settled_by_not_null(model, column_name) }}
{%- endif %}

{% endmacro %}
