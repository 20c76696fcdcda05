{#- Refresh the planner's statistics of a model's table as soon as it is built.

    PostgreSQL's autovacuum analyzes a new table only some time later, so the next model
    reading it is planned on "empty table" estimates: fct_target_pacing_daily was planned
    for 3,504 rows, got 1,026,657 and spent 26 s in a merge join filtering 221 M row pairs.
    ANALYZE samples at most 30,000 rows, so it costs little even on large tables.
    Views have no statistics of their own: nothing to do. -#}
{% macro analyze_relation() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
