-- Contact, pipeline and satisfaction per account, as of the as-of date.
-- A table, not a view: it reads two views that dbt may rebuild at the same time, and a
-- rebuilt view drops its old version with CASCADE; two such drops reaching this view at
-- once deadlock (seen in a daily build). tests/test_dag_integrity.py keeps this true.
{{ config(materialized='table') }}
with as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

),

-- the window's bounds as instants (local midnights), computed once: comparing each of the
-- 5 M activities with them costs nothing, converting each to a local date cost seconds
window_bounds as (

    select
        cast(as_of_date - 89 as timestamp) at time zone {{ company_setting('timezone') }}
            as starts_at,
        cast(as_of_date + 1 as timestamp) at time zone {{ company_setting('timezone') }}
            as ends_at
    from as_of

),

activities as (

    select
        account_id,
        max(occurred_at) as last_contact_at,
        count(case when occurred_at >= (select starts_at from window_bounds) then 1 end)
            as activities_last_90d
    from {{ ref('stg_crm__activities') }}
    where account_id is not null
        and occurred_at < (select ends_at from window_bounds)
    group by account_id

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
    activities.last_contact_at,
    coalesce(activities.activities_last_90d, 0) as activities_last_90d,
    coalesce(pipeline.open_pipeline_amount, 0) as open_pipeline_amount,
    coalesce(pipeline.deals_won, 0) as deals_won,
    surveys.avg_csat,
    surveys.avg_nps,
    coalesce(surveys.survey_responses, 0) as survey_responses
from {{ ref('stg_crm__accounts') }} as accounts
left join activities on activities.account_id = accounts.account_id
left join pipeline on pipeline.account_id = accounts.account_id
left join surveys on surveys.account_id = accounts.account_id
