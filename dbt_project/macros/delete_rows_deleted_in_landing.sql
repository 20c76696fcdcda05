{#- Pre-hook of an incremental model: remove rows whose landing row (raw.<entity>, key `id`
    = this.<column>) was marked deleted since the model's watermark and has no live row
    under the same key. delete+insert only replaces keys that come back, so a key deleted
    for good would otherwise stay; the model's own SQL reads live rows only, so removing
    these before the insert gives what removing them after did.

    Only rows deleted, or landed deleted, since the watermark (incremental_since_literal(),
    read before the model writes anything; a source's soft delete carries the source's own
    time, so the landing time counts too): earlier ones were removed by earlier runs, and a
    full build reads no deleted row (the hook renders nothing). Every run used to re-check
    every deletion ever landed against the whole landing table (4.2-5.6 s of a large daily
    build with nothing deleted that day). The rows are found through a partial index of
    raw.<entity> (deleted rows only) that the model's pre-hook
    `ensure_landing_deleted_index` keeps; the live twin is looked for only when something
    was deleted. -#}
{% macro delete_rows_deleted_in_landing(column, entity) -%}
    {%- if is_incremental() -%}
    with deleted as materialized (
        select deleted.id
        from {{ source('crm', entity) }} as deleted
        -- landed or deleted after the watermark (as landed_or_deleted_after), in the form
        -- of the partial index
        where deleted._deleted_at is not null
            and greatest(deleted._extracted_at, deleted._deleted_at) > {{ incremental_since_literal() }}
        {{ crm_source_filter() }}
    )
    delete from {{ this }} as t
    using deleted
    where t.{{ adapter.quote(column) }} = deleted.id
        and not exists (
            select 1
            from {{ source('crm', entity) }} as live
            where live.id = deleted.id
                and live._deleted_at is null
                {{ crm_source_filter() }}
        )
    {%- endif -%}
{%- endmacro %}
