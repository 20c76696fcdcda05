{#- Pre-hook of a model that reads a landing table by a path its primary key does not give:
    an index on `columns` of raw.<entity>, created once (a no-op once it exists).

    The loader keeps landing tables to their primary key, so a first load costs one COPY and
    one key build. An index that only serves a model's incremental runs is that model's
    to declare, next to the query that uses it, and its first build pays for it (5 s for
    raw.activities (owner_id, occurred_at) on the medium bench, once). -#}
{% macro ensure_landing_index(entity, columns) -%}
    create index if not exists {{ sql_ident(entity ~ '_' ~ columns | join('_') ~ '_idx') }}
        on {{ source('crm', entity) }} ({{ sql_ident_list(columns) }})
{%- endmacro %}
