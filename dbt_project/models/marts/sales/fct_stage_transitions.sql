-- One row per stage change: when the opportunity entered the stage, when it left it and
-- the days in between (null while it is still in the stage).
-- Incremental: every opportunity with a new or changed stage change, or whose opportunity
-- row changed, is rebuilt whole (exits depend on the next change); changes deleted in the
-- source are removed afterwards.
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="delete from {{ this }} as t where not exists (select 1 from {{ ref('stg_crm__opportunity_stage_history') }} as h inner join {{ ref('stg_crm__opportunities') }} as o on o.opportunity_id = h.opportunity_id where h.stage_change_id = t.stage_change_id)",
) }}

with history as (

    select * from {{ ref('stg_crm__opportunity_stage_history') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

{% if is_incremental() -%}
watermark as (

    select {{ incremental_since() }} as since
    from {{ this }}

),

changed as (

    select opportunity_id from history where _extracted_at > (select since from watermark)
    union
    select opportunity_id from opportunities where _extracted_at > (select since from watermark)
    union
    select t.opportunity_id from {{ this }} as t
    where not exists (select 1 from history where history.stage_change_id = t.stage_change_id)

),
{%- endif %}

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
    {% if is_incremental() -%}
    where history.opportunity_id in (select opportunity_id from changed)
    {%- endif %}

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
