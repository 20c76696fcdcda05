-- The latest activity of every account that has one: all its live activities, any date.
-- Engagement reads it instead of aggregating all 5 M activities of the medium bench by
-- account in every build (the largest part of its 7-8 s in a daily build).
-- Incremental by account: every account a changed activity entered or left (both versions,
-- from landing_rows_changed_since) is looked up again: its latest live activity, read
-- through the landing index on (account_id, occurred_at) that the pre-hook keeps. An account
-- left with none keeps a marker row (last_contact_at null) that the post-hook drops.
{{ config(
    materialized='incremental',
    unique_key='account_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook=[
        "{{ ensure_landing_index('activities', ['account_id', 'occurred_at']) }}",
        "{{ ensure_landing_changed_index('activities') }}",
        "{{ ensure_landing_deleted_index('activities') }}",
    ],
    post_hook=[
        "{{ delete_emptied_groups('last_contact_at') }}",
        "{{ ensure_unique_index(['account_id']) }}",
    ],
) }}

{% if is_incremental() -%}
with changed as (

    {{ landing_rows_changed_since('activities', incremental_since_literal()) }}

),

-- the watermark moves to the newest row read here: each changed account's row carries the
-- latest extract among its changed activities
changed_accounts as (

    select changed.account_id, max(changed._extracted_at) as _extracted_at
    from changed
    where changed.account_id is not null
    group by changed.account_id

)

-- each account's latest activity is the last live entry of its range of the index: one
-- short backward index scan per account. It reads the landing table with the staging view's
-- own filter (live rows of the selected source; the view passes account_id and occurred_at
-- unchanged): through the view PostgreSQL read and sorted every activity of the account
-- (1.4 s for 7.6 k accounts on the medium bench; max() over them all took 2.8 s).
select
    changed_accounts.account_id,
    latest.occurred_at as last_contact_at,
    changed_accounts._extracted_at
from changed_accounts
left join lateral (
    select account_activities.occurred_at
    from {{ source('crm', 'activities') }} as account_activities
    where account_activities.account_id = changed_accounts.account_id
        and account_activities.occurred_at is not null
        and account_activities._deleted_at is null
        {{ crm_source_filter() }}
    order by account_activities.occurred_at desc
    limit 1
) as latest on true
{%- else -%}
select
    account_id,
    max(occurred_at) as last_contact_at,
    max(_extracted_at) as _extracted_at
from {{ ref('stg_crm__activities') }}
where account_id is not null
    and occurred_at is not null
group by account_id
{%- endif %}
