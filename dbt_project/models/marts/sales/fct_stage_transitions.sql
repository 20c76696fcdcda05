-- One row per stage change: when the opportunity entered the stage, when it left it and
-- the days in between (null while it is still in the stage).
-- Incremental: every opportunity with a new, changed or deleted stage change, or whose
-- opportunity row changed, is rebuilt whole (exits depend on the next change); rows whose
-- landing row was deleted are removed afterwards (post-hooks).
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['opportunity_id']}],
    post_hook=[
        "{{ delete_rows_deleted_in_landing('stage_change_id', 'opportunity_stage_history') }}",
        "{{ delete_rows_deleted_in_landing('opportunity_id', 'opportunities') }}",
        "{{ ensure_unique_index(['stage_change_id']) }}",
    ],
) }}

with

{% if is_incremental() -%}
changed as (

    {{ opportunities_changed_since(incremental_since_literal()) }}

),
{%- endif %}

history as (

    select * from {{ ref('stg_crm__opportunity_stage_history') }}
    {% if is_incremental() -%}
    where opportunity_id in (select opportunity_id from changed)
    {%- endif %}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}
    {% if is_incremental() -%}
    where opportunity_id in (select opportunity_id from changed)
    {%- endif %}

),

changes as (

    select
        history.stage_change_id,
        history.opportunity_id,
        opportunities.owner_id,
        history.stage as source_stage,
        history.changed_at as entered_at,
        lead(history.changed_at) over (
            partition by history.opportunity_id
            order by history.changed_at, history.stage_change_id
        ) as exited_at,
        greatest(history._extracted_at, opportunities._extracted_at) as _extracted_at
    from history
    inner join opportunities
        on opportunities.opportunity_id = history.opportunity_id

)

select
    changes.stage_change_id,
    changes.opportunity_id,
    changes.owner_id,
    stages.funnel_stage as stage,
    changes.source_stage,
    stages.stage_order,
    changes.entered_at,
    changes.exited_at,
    round(cast({{ dbt.datediff('changes.entered_at', 'changes.exited_at', 'second') }} as numeric) / 86400, 2)
        as days_in_stage,
    changes._extracted_at
from changes
left join {{ ref('stage_order') }} as stages
    on stages.stage = changes.source_stage
