{#- Names and text from configuration (vars, seed headers) are data, not SQL: quote them.
    dbt's own adapter.quote / string_literal / grant SQL do not escape embedded quotes. -#}
{% macro sql_ident(name) -%}
    "{{ name | string | replace('"', '""') }}"
{%- endmacro %}

{#- `names` as a comma-separated list of quoted identifiers. -#}
{% macro sql_ident_list(names) -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}
        {%- do quoted.append(sql_ident(name | string)) -%}
    {%- endfor -%}
    {{- return(quoted | join(', ')) -}}
{%- endmacro %}

{% macro sql_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- `values` as a comma-separated list of text literals (for `= any(array[...])`). -#}
{% macro sql_text_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(sql_text(value)) -%}
    {%- endfor -%}
    {{- return(quoted | join(', ')) -}}
{%- endmacro %}

{#- Grants (the marts' `grants` config names var('bi_role')) with quoted grantees. -#}
{% macro postgres__get_grant_sql(relation, privilege, grantees) -%}
    grant {{ privilege }} on {{ relation.render() }} to
    {%- for g in grantees %} {{ sql_ident(g) }}{{ "," if not loop.last }}{% endfor %}
{%- endmacro %}

{% macro postgres__get_revoke_sql(relation, privilege, grantees) -%}
    revoke {{ privilege }} on {{ relation.render() }} from
    {%- for g in grantees %} {{ sql_ident(g) }}{{ "," if not loop.last }}{% endfor %}
{%- endmacro %}

{#- Seeds: header names are always quoted identifiers (dbt's quote_seed_column does not
    escape an embedded double quote). -#}
{% macro postgres__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set type = column_override.get(col_name, inferred_type) -%}
            {{ sql_ident(col_name | string) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}

{% macro get_seed_column_quoted_csv(model, column_names) %}
    {{ return(sql_ident_list(column_names)) }}
{% endmacro %}
