{#- `and _source = '<var crm_source>'` when the var is set; nothing otherwise. -#}
{% macro crm_source_filter() -%}
    {%- if var('crm_source') is not none %}
        and _source = {{ sql_text(var('crm_source')) }}
    {%- endif -%}
{%- endmacro %}
