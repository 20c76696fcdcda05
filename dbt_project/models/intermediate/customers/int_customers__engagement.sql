-- Contact, pipeline and satisfaction per account, as of the as-of date.
-- A table, not a view: it reads two views that dbt may rebuild at the same time, and a
-- rebuilt view drops its old version with CASCADE; two such drops reaching this view at
-- once deadlock (seen in a daily build). tests/test_dag_integrity.py keeps this true.
{{ config(materialized='table') }}
-- depends_on: {{ ref('int_customers__last_contact') }}
{#- The window's bounds (local midnights of the 90 days to the as-of date) as literals, read
    when the model runs: with literals PostgreSQL reads the window's activities through the
    index on raw.activities (occurred_at) that int_calendar__as_of_date keeps; behind a
    subquery it assumed a third of the table and scanned all of it. Before the as-of date is
    built (parse, compile on an empty warehouse) the subquery form stands in. -#}
{%- set window = {
    'starts_at': '(select starts_at from window_bounds)',
    'ends_at': '(select ends_at from window_bounds)',
} %}
{%- if execute and load_relation(ref('int_calendar__as_of_date')) is not none %}
    {%- set bounds_sql %}
        select
            cast(cast(as_of_date - 89 as timestamp) at time zone {{ company_setting('timezone') }} as text),
            cast(cast(as_of_date + 1 as timestamp) at time zone {{ company_setting('timezone') }} as text)
        from {{ ref('int_calendar__as_of_date') }}
    {%- endset %}
    {%- set bounds = run_query(bounds_sql).rows[0] %}
    {%- do window.update({
        'starts_at': 'cast(' ~ dbt.string_literal(bounds[0]) ~ ' as timestamptz)',
        'ends_at': 'cast(' ~ dbt.string_literal(bounds[1]) ~ ' as timestamptz)',
    }) %}
{%- endif %}

with as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

),

-- the window's bounds as instants (local midnights), computed once: comparing each
-- activity with them costs nothing, converting each to a local date cost seconds
window_bounds as (

    select
        cast(as_of_date - 89 as timestamp) at time zone {{ company_setting('timezone') }}
            as starts_at,
        cast(as_of_date + 1 as timestamp) at time zone {{ company_setting('timezone') }}
            as ends_at
    from as_of

),

recent_activities as (

    select
        account_id,
        count(*) as activities_last_90d
    from {{ ref('stg_crm__activities') }}
    where account_id is not null
        and occurred_at >= {{ window.starts_at }}
        and occurred_at < {{ window.ends_at }}
    group by account_id

),

-- the latest activity before the end of the as-of date. Without the var, the as-of date is
-- that of the latest event, activities included, so no activity is after it and the
-- incremental int_customers__last_contact holds exactly this; with the var (a past as-of
-- date), later activities are left out here
last_contact as (

    {% if var('as_of_date') is none -%}
    select account_id, last_contact_at from {{ ref('int_customers__last_contact') }}
    {%- else -%}
    select account_id, max(occurred_at) as last_contact_at
    from {{ ref('stg_crm__activities') }}
    where account_id is not null
        and occurred_at < {{ window.ends_at }}
    group by account_id
    {%- endif %}

),

pipeline as (

    select
        account_id,
        sum(case when not is_closed then coalesce(amount_company, 0) else 0 end) as open_pipeline_amount,
        count(case when is_won then 1 end) as deals_won
    from {{ ref('fct_opportunities') }}
    where account_id is not null
    group by account_id

),

surveys as (

    select
        account_id,
        round(avg(case when csat between 1 and 5 then csat end), 2) as avg_csat,
        round(avg(case when nps between 0 and 10 then nps end), 2) as avg_nps,
        count(*) as survey_responses
    from {{ ref('stg_crm__satisfaction_surveys') }}
    where account_id is not null
    group by account_id

)

select
    accounts.account_id,
    last_contact.last_contact_at,
    coalesce(recent_activities.activities_last_90d, 0) as activities_last_90d,
    coalesce(pipeline.open_pipeline_amount, 0) as open_pipeline_amount,
    coalesce(pipeline.deals_won, 0) as deals_won,
    surveys.avg_csat,
    surveys.avg_nps,
    coalesce(surveys.survey_responses, 0) as survey_responses
from {{ ref('stg_crm__accounts') }} as accounts
left join last_contact on last_contact.account_id = accounts.account_id
left join recent_activities on recent_activities.account_id = accounts.account_id
left join pipeline on pipeline.account_id = accounts.account_id
left join surveys on surveys.account_id = accounts.account_id
