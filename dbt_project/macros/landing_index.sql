{#- Pre-hook of a model that reads a landing table by a path its primary key does not give:
    an index on `columns` of raw.<entity> (partial when `where` is given), created once.

    The loader keeps landing tables to their primary key, so a first load costs one COPY and
    one key build. An index that only serves a model's incremental runs is that model's
    to declare, next to the query that uses it, and its first build pays for it (5 s for
    raw.activities (owner_id, occurred_at) on the medium bench, once).
    Once the index exists the hook takes no lock: CREATE INDEX IF NOT EXISTS would hold a
    SHARE lock on the landing table until the model's transaction ends, holding up a
    concurrent extract for the whole model build. Two models may declare the same index and
    run at once: the second waits for the first to commit and then leaves it be. -#}
{% macro ensure_landing_index(entity, columns=none, where=none, name=none, key_sql=none) -%}
    {%- set relation = source('crm', entity) -%}
    {%- set index_name = name or (entity ~ '_' ~ columns | join('_') ~ '_idx') -%}
    do $ensure_index$
    begin
        if to_regclass({{ dbt.string_literal(sql_ident(relation.schema) ~ '.' ~ sql_ident(index_name)) }}) is null then
            create index {{ sql_ident(index_name) }}
                on {{ relation }} ({{ key_sql or sql_ident_list(columns) }})
                {%- if where %} where {{ where }}{% endif %};
        end if;
    exception when duplicate_table or unique_violation then
        -- another model's hook created it at the same time (its transaction had not yet
        -- committed when this one looked)
        null;
    end
    $ensure_index$
{%- endmacro %}

{#- The partial index delete_rows_deleted_in_landing reads: deleted rows only, by the later
    of their landing and deletion times (a source's soft delete carries the source's own
    deletion time, the landing time is when it arrived), so it stays small and a merge
    only touches it for a deletion. -#}
{% macro ensure_landing_deleted_index(entity) -%}
    {{ ensure_landing_index(entity, key_sql='(greatest(_extracted_at, _deleted_at))',
                            where='_deleted_at is not null', name=entity ~ '_deleted_idx') }}
{%- endmacro %}

{#- The index a day's changes are found by (`landed_or_deleted_after`): every row the merge
    writes gets the time of its extract, so a daily build reads one day's rows through it.
    A first load stamps one time on every row, which btree deduplication keeps small. The
    planner also reads the newest value from it, so its estimate of how many rows changed
    since a watermark is right whatever the landing statistics are. -#}
{% macro ensure_landing_changed_index(entity) -%}
    {{ ensure_landing_index(entity, ['_extracted_at'], name=entity ~ '_extracted_idx') }}
{%- endmacro %}
