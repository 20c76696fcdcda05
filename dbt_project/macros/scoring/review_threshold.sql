{#- A threshold of the quarterly review (seed review_thresholds) as a numeric scalar. -#}
{% macro review_threshold(name) -%}
  (select cast(value as numeric) from {{ ref('review_thresholds') }}
   where setting = {{ dbt.string_literal(name) }})
{%- endmacro %}
