-- One row per live opportunity, in company currency, credited to the team, region and
-- manager its owner had when it closed (or was created, while open).
-- Incremental: rows extracted since the last build (minus a look-back) are replaced
-- (delete+insert on the key); opportunities deleted in landing since then are removed
-- first (pre-hooks).
{{ config(
    materialized='incremental',
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ ensure_landing_changed_index('opportunities') }}",
        "{{ ensure_landing_deleted_index('opportunities') }}",
        "{{ delete_rows_deleted_in_landing('opportunity_id', 'opportunities') }}",
    ],
    post_hook=[
        "{{ ensure_unique_index(['opportunity_id']) }}",
        "{{ ensure_watermark_index() }}",
        "{{ ensure_not_null_tested_columns() }}",
    ],
) }}

with opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}
    {% if is_incremental() -%}
    where _extracted_at > {{ incremental_since_literal() }}
    {%- endif %}

),

stages as (

    select * from {{ ref('stage_order') }}

),

enriched as (

    select
        opportunities.*,
        coalesce(opportunities.closed_at, opportunities.created_at, opportunities._extracted_at)
            as credited_at,
        stages.funnel_stage,
        stages.stage_order,
        coalesce(stages.is_closed, opportunities.is_closed, false) as stage_is_closed,
        coalesce(stages.is_won, opportunities.is_won, false) as stage_is_won
    from opportunities
    left join stages
        on stages.stage = opportunities.stage

)

select
    enriched.opportunity_id,
    enriched.name as opportunity_name,
    enriched.owner_id,
    enriched.account_id,
    org.team_id,
    coalesce(org.region, 'Unassigned') as region,
    org.manager_id,
    enriched.funnel_stage as stage,
    enriched.stage as source_stage,
    enriched.stage_order,
    enriched.product,
    enriched.amount,
    coalesce(enriched.currency, {{ company_setting('currency') }}) as currency,
    round(enriched.amount * fx.rate_to_company, 2) as amount_company,
    enriched.probability,
    enriched.created_at,
    enriched.expected_close_date,
    enriched.closed_at,
    enriched.stage_is_closed as is_closed,
    enriched.stage_is_won as is_won,
    enriched.lost_reason,
    {{ local_month('enriched.created_at') }} as created_month,
    {{ local_month('enriched.closed_at') }} as closed_month,
    case when enriched.stage_is_closed then
        {{ dbt.datediff(local_date('enriched.created_at'), local_date('enriched.closed_at'), 'day') }}
    end as sales_cycle_days,
    enriched._source,
    enriched._extracted_at
from enriched
{{ join_as_was('org', 'enriched.owner_id', 'enriched.credited_at') }}
{{ join_fx('fx', 'enriched.currency', local_date('enriched.credited_at')) }}
