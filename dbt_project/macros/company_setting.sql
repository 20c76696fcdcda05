{#- A value from the company_settings seed as a scalar subquery, so the business edits one
    CSV and every model follows. -#}
{% macro company_setting(name, cast_to=none) -%}
    {%- set q -%}
        (select value from {{ ref('company_settings') }} where setting = {{ dbt.string_literal(name) }})
    {%- endset -%}
    {%- if cast_to is none -%}{{ q }}{%- else -%}cast({{ q }} as {{ cast_to }}){%- endif -%}
{%- endmacro %}

{#- A timestamptz as a local date in the company timezone. -#}
{% macro local_date(ts) -%}
    cast(({{ ts }}) at time zone {{ company_setting('timezone') }} as date)
{%- endmacro %}

{#- First day of the month of a date/timestamp (in the company timezone for timestamps). -#}
{% macro local_month(ts) -%}
    cast({{ dbt.date_trunc('month', local_date(ts)) }} as date)
{%- endmacro %}
