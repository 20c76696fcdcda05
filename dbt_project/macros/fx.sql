{#- Join the FX rate of `currency_col` valid on `date_expr` (company currency when null). -#}
{% macro join_fx(alias, currency_col, date_expr) -%}
    left join {{ ref('int_fx_rates') }} as {{ alias }}
        on {{ alias }}.currency = coalesce({{ currency_col }}, {{ company_setting('currency') }})
        and {{ date_expr }} >= {{ alias }}.valid_from
        and {{ date_expr }} < {{ alias }}.valid_to
{%- endmacro %}
