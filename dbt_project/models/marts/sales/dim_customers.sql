-- Customer 360: one row per account with orders, revenue, contact, pipeline, satisfaction
-- and a churn-risk flag (a paying customer with no order and no contact in the last
-- `churn_risk_days` days, or unhappy: average CSAT 2 or lower).
with accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

as_of as (

    select as_of_date from {{ ref('int_calendar__as_of_date') }}

)

select
    accounts.account_id,
    accounts.name as account_name,
    accounts.owner_id,
    accounts.industry,
    coalesce(accounts.region, 'Unassigned') as region,
    accounts.employees,
    accounts.annual_revenue,
    orders.first_order_date,
    orders.last_order_date,
    coalesce(orders.order_count, 0) as order_count,
    coalesce(orders.lifetime_revenue, 0) as lifetime_revenue,
    engagement.last_contact_at,
    engagement.activities_last_90d,
    engagement.open_pipeline_amount,
    engagement.deals_won,
    engagement.avg_csat,
    engagement.avg_nps,
    engagement.survey_responses,
    (
        (coalesce(orders.order_count, 0) > 0 or engagement.deals_won > 0)
        and coalesce(orders.last_order_date, cast('1900-01-01' as date))
            < (select as_of_date from as_of) - {{ var('churn_risk_days') }}
        and coalesce({{ local_date('engagement.last_contact_at') }}, cast('1900-01-01' as date))
            < (select as_of_date from as_of) - {{ var('churn_risk_days') }}
    ) or coalesce(engagement.avg_csat <= 2, false) as is_churn_risk,
    accounts._source
from accounts
left join {{ ref('int_customers__orders') }} as orders
    on orders.account_id = accounts.account_id
inner join {{ ref('int_customers__engagement') }} as engagement
    on engagement.account_id = accounts.account_id
