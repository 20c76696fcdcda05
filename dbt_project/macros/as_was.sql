{#- Join the as-was hierarchy for `user_col` at time `at_col` under alias `alias`. -#}
{% macro join_as_was(alias, user_col, at_col) -%}
    left join {{ ref('int_org__rep_history') }} as {{ alias }}
        on {{ alias }}.user_id = {{ user_col }}
        and {{ at_col }} >= {{ alias }}.valid_from
        and {{ at_col }} < {{ alias }}.valid_to
{%- endmacro %}

{#- A locale normalised to the two the reports support. -#}
{% macro normalise_locale(col) -%}
    case
        when lower({{ col }}) like 'zh%' then 'zh_CN'
        when lower({{ col }}) like 'en%' then 'en'
        else {{ company_setting('default_locale') }}
    end
{%- endmacro %}
