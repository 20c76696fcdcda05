-- Order history per account in company currency; refunded and cancelled orders earn nothing.
-- A table, not a view: it reads two views that dbt may rebuild at the same time, and a
-- rebuilt view drops its old version with CASCADE; two such drops reaching this view at
-- once deadlock (seen in a daily build). tests/test_dag_integrity.py keeps this true.
{{ config(materialized='table') }}
select
    orders.account_id,
    min(case when orders.status = 'paid' then orders.order_date end) as first_order_date,
    max(case when orders.status = 'paid' then orders.order_date end) as last_order_date,
    count(case when orders.status = 'paid' then 1 end) as order_count,
    coalesce(sum(case when orders.status = 'paid'
        then round(orders.amount * fx.rate_to_company, 2) end), 0) as lifetime_revenue,
    count(case when orders.status in ('refunded', 'cancelled') then 1 end) as refunded_or_cancelled_count
from {{ ref('stg_crm__orders') }} as orders
{{ join_fx('fx', 'orders.currency', 'orders.order_date') }}
where orders.account_id is not null
group by orders.account_id
