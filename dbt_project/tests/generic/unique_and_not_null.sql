{#- `column_name` is a key of the model: no row without it, no two rows with the same one.

    dbt's `not_null` and `unique` in one test, and so in one node and one pass over the
    rows: a dbt test costs a node of its own (25-30 ms of dbt's own work on two cores,
    whatever its SQL), and every key of this project was tested twice. The rows returned are
    the offending keys with their count: a null key (with the number of rows without one)
    or a duplicated one. A table whose unique index on the key, under NOT NULL, settles both
    (post-hook `ensure_unique_index`, macros/unique_index.sql) is not read. -#}
{% test unique_and_not_null(model, column_name) %}

select
    {{ column_name }} as key_value,
    count(*) as n_records
from {{ model }}
{%- if model is not string %}
where not {{ settled_by_unique_index(model, [column_name], nulls_allowed=false) }}
{%- endif %}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null

{% endtest %}
