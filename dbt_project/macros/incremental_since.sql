{#- Whether the built `relation` has a column `name` (a table built before the model added
    it, on an upgrade, has not). -#}
{% macro relation_has_column(relation, name) -%}
    {{- return(name in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list)) -}}
{%- endmacro %}

{#- The time after which rows are re-read by an incremental model: the newest
    `_extracted_at` already built, minus the look-back. On an empty table (a first build that
    ran before any data landed) max() is null; without the coalesce `> null` would select
    nothing on every later run and the table would stay empty for good.
    A table built before the model tracked `_extracted_at` (an aggregate that used to be
    rebuilt whole) has no such column yet: everything counts as changed, once. -#}
{% macro incremental_since() -%}
    {%- if not execute or relation_has_column(this, '_extracted_at') -%}
    coalesce(
        max({{ this }}._extracted_at) - interval '{{ var("incremental_lookback_hours") }} hours',
        '-infinity'::timestamptz
    )
    {%- else -%}
    min('-infinity'::timestamptz)
    {%- endif -%}
{%- endmacro %}

{#- The same time as a literal, read from the table when the model runs: a filter on a
    literal lets PostgreSQL estimate from the landing statistics how few rows changed. Behind
    a subquery it assumes a third of the table and plans sorts and merge joins over millions
    of rows (int_sales__funnel_opportunity_stages: 22 s instead of about 2 on the medium
    bench). -#}
{% macro incremental_since_literal() -%}
    {%- if execute -%}
        {%- set query -%}
            select cast(({{ incremental_since() }}) as text) from {{ this }}
        {%- endset -%}
        {%- set since = run_query(query).columns[0].values()[0] -%}
        {{- return("cast(" ~ dbt.string_literal(since) ~ " as timestamptz)") -}}
    {%- else -%}
        {{- return("cast('-infinity' as timestamptz)") -}}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental model whose watermark is `max(_extracted_at)`: an index on
    `_extracted_at`, once per table, so the watermark is read from the index's last entry.
    Without it every read of the watermark scanned the whole model, and a model reads it
    once per hook that needs it (fct_stage_transitions: three reads of 1.7 M rows, 1.9 s of
    a daily build on the medium bench with nothing to do). -#}
{% macro ensure_watermark_index() -%}
    do $$
    begin
        if not exists (
            select 1
            from pg_index as i
            inner join pg_attribute as a
                on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = cast({{ dbt.string_literal(this | string) }} as regclass)
                and a.attname = '_extracted_at'
                and i.indpred is null
                and i.indisvalid
        ) then
            create index on {{ this }} (_extracted_at);
        end if;
    end
    $$
{%- endmacro %}
