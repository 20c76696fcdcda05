{#- No two rows share the combination of `columns` (nulls count as equal). A table whose
    unique index on NOT NULL columns among them settles it is not grouped (see
    macros/unique_index.sql). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
{%- if model is not string %}
where not {{ settled_by_unique_index(model, columns, nulls_allowed=false) }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
