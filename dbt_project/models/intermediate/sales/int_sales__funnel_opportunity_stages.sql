-- Every opportunity x funnel stage it reached (prospecting .. closed_won), with whether it
-- went on to the next stage and its days in the stage. An opportunity that reached a later
-- stage counts as having passed the earlier ones (skipped stages included), so entries
-- never grow down the funnel. Lost deals reach the furthest stage seen before the loss.
-- A table, not a view: the funnel mart and the grain test both read it, and as a view
-- it was computed twice per build (the test alone took 12.8 s on the medium bench).
-- Incremental by opportunity: every opportunity whose landing row or stage history landed,
-- changed or was deleted since the last build is rebuilt whole; one that no longer counts
-- (deleted, or no created month) leaves a marker row (stage_order null) that replaces its
-- old rows and is then dropped (post-hook). The key (opportunity_id, funnel_stage) is kept
-- under a unique index, which also serves delete+insert's lookups by opportunity.
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ ensure_landing_changed_index('opportunity_stage_history') }}",
        "{{ ensure_landing_deleted_index('opportunity_stage_history') }}",
        "{{ ensure_landing_changed_index('opportunities') }}",
        "{{ ensure_landing_deleted_index('opportunities') }}",
    ],
    post_hook=[
        "{{ delete_emptied_groups('stage_order') }}",
        "{{ ensure_unique_index(['opportunity_id', 'funnel_stage']) }}",
        "{{ ensure_watermark_index() }}",
    ],
) }}
with

{% if is_incremental() -%}
changed as (

    {{ opportunities_changed_since(incremental_since_literal()) }}

),
{%- endif %}

opportunities as (

    select * from {{ ref('fct_opportunities') }}
    where created_month is not null
    {%- if is_incremental() %}
        and opportunity_id in (select opportunity_id from changed)
    {%- endif %}

),

transitions as (

    select * from {{ ref('fct_stage_transitions') }}
    {%- if is_incremental() %}
    where opportunity_id in (select opportunity_id from changed)
    {%- endif %}

),

reached as (

    select
        opportunities.opportunity_id,
        greatest(
            coalesce(max(case when transitions.stage_order <= 5 then transitions.stage_order end), 1),
            case when opportunities.stage_order <= 5 then opportunities.stage_order else 1 end
        ) as furthest_stage_order,
        max(transitions._extracted_at) as transitions_extracted_at
    from opportunities
    left join transitions
        on transitions.opportunity_id = opportunities.opportunity_id
    group by opportunities.opportunity_id, opportunities.stage_order

),

stage_days as (

    select opportunity_id, stage, sum(days_in_stage) as days_in_stage
    from transitions
    where exited_at is not null
    group by opportunity_id, stage

),

funnel_stages as (

    select distinct funnel_stage, stage_order
    from {{ ref('stage_order') }}
    where stage_order <= 5

),

stage_rows as (

    select
        opportunities.opportunity_id,
        opportunities.owner_id,
        coalesce(opportunities.team_id, 'unassigned') as team_id,
        opportunities.region,
        opportunities.created_month as month_start,
        funnel_stages.funnel_stage,
        funnel_stages.stage_order,
        reached.furthest_stage_order > funnel_stages.stage_order as converted,
        stage_days.days_in_stage,
        greatest(opportunities._extracted_at, reached.transitions_extracted_at) as _extracted_at
    from opportunities
    inner join reached
        on reached.opportunity_id = opportunities.opportunity_id
    inner join funnel_stages
        on funnel_stages.stage_order <= reached.furthest_stage_order
    left join stage_days
        on stage_days.opportunity_id = opportunities.opportunity_id
        and stage_days.stage = funnel_stages.funnel_stage

)

select * from stage_rows
{%- if is_incremental() %}
union all
-- a changed opportunity that no longer counts: a marker replacing its old rows
select
    changed.opportunity_id,
    null as owner_id,
    null as team_id,
    null as region,
    null as month_start,
    'none' as funnel_stage,  -- the key stays NOT NULL
    null as stage_order,
    null as converted,
    null as days_in_stage,
    null as _extracted_at
from changed
where not exists (
    select 1 from stage_rows where stage_rows.opportunity_id = changed.opportunity_id
)
{%- endif %}
