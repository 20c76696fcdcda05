{#- A landing row (alias `alias`) that landed, changed or was deleted after `since`: the
    merge stamps `_extracted_at` on every row it writes; a deletion sets only `_deleted_at`.
    Written in the form of two landing indexes, so that a day's changes are found by a
    BitmapOr of two index range scans instead of a scan of the whole table (0.8 s for the 5 M
    activities of the medium bench, whatever the day changed): `_extracted_at` (see
    `ensure_landing_changed_index`) and the partial index of deleted rows by the later of
    their two times (`ensure_landing_deleted_index`). The second arm is `_deleted_at > since`
    restated: a deleted row whose deletion is after `since` has the later time after it, and
    one whose later time is after it was either extracted or deleted after it. -#}
{% macro landed_or_deleted_after(alias, since) -%}
    ({{ alias }}._extracted_at > {{ since }}
        or ({{ alias }}._deleted_at is not null
            and greatest({{ alias }}._extracted_at, {{ alias }}._deleted_at) > {{ since }}))
{%- endmacro %}

{#- The landing rows of `entity` that changed since `since` (a SQL expression), in both
    versions: every row extracted or deleted since then (its current values) and, from
    ops.landing_replaced_rows, the version each merge replaced (its old values), typed as
    the landing table's own rows. An incremental aggregate groups these by its grain to find
    every group a change entered or left: an activity moved from March to April changes
    both months, and the landing row alone only tells of April. -#}
{% macro landing_rows_changed_since(entity, since) -%}
    select current_rows.*
    from {{ source('crm', entity) }} as current_rows
    where {{ landed_or_deleted_after('current_rows', since) }}
    {{ crm_source_filter() }}
    union all
    select replaced_rows.*
    from {{ source('landing_history', 'landing_replaced_rows') }} as history
    cross join lateral jsonb_populate_record(
        null::{{ source('crm', entity) }}, history.prior
    ) as replaced_rows
    where history.entity = {{ dbt.string_literal(entity) }}
        and history.replaced_at > {{ since }}
        {%- if var('crm_source') is not none %}
        and history._source = {{ sql_text(var('crm_source')) }}
        {%- endif %}
{%- endmacro %}

{#- Post-hook of an incremental aggregate that marks groups left without rows with a null
    `column` (see the models): delete+insert replaced the group's old row with the marker,
    and the marker goes here, so the group disappears as in a full rebuild. -#}
{% macro delete_emptied_groups(column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ adapter.quote(column) }} is null
    {%- endif -%}
{%- endmacro %}

{#- Ids of the opportunities with a stage change or an opportunity row that landed, changed
    or was deleted after `since` (a SQL expression), read from the landing tables (deleted
    rows included). The incremental models whose rows belong to one opportunity rebuild
    these whole. -#}
{% macro opportunities_changed_since(since) -%}
    select history.opportunity_id
    from {{ source('crm', 'opportunity_stage_history') }} as history
    where {{ landed_or_deleted_after('history', since) }}
    {{ crm_source_filter() }}
    union
    select opportunities.id
    from {{ source('crm', 'opportunities') }} as opportunities
    where {{ landed_or_deleted_after('opportunities', since) }}
    {{ crm_source_filter() }}
{%- endmacro %}
