{#- Post-hook of an incremental model: remove rows whose landing row (raw.<entity>, key
    `id` = this.<column>) is marked deleted and that no longer exist live in `live_relation`
    (a staging view, key `live_column`). delete+insert only replaces keys that come back, so
    a fully deleted key would otherwise stay. Cost follows the number of deleted landing
    rows, not the size of the model: the deleted rows are hashed, the model is probed. -#}
{% macro delete_rows_deleted_in_landing(column, entity, live_relation, live_column) -%}
    delete from {{ this }} as t
    where t.{{ adapter.quote(column) }} in (
        select deleted.id
        from {{ source('crm', entity) }} as deleted
        where deleted._deleted_at is not null
        {{ crm_source_filter() }}
    )
    and not exists (
        select 1 from {{ live_relation }} as live
        where live.{{ adapter.quote(live_column) }} = t.{{ adapter.quote(column) }}
    )
{%- endmacro %}
