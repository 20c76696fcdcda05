-- Won deals whose orders were later refunded or cancelled, with the refunded amount in
-- company currency (at the deal's own rate) and the local date of the refund.
with opportunities as (
    select * from {{ ref('fct_opportunities') }}
    where is_won
),

orders as (
    select * from {{ ref('stg_crm__orders') }}
    where status in ('refunded', 'cancelled')
)

select
    orders.order_id,
    orders.status,
    opportunities.opportunity_id,
    opportunities.owner_id as rep_id,
    {{ local_date('opportunities.closed_at') }} as closed_date,
    coalesce({{ local_date('orders.status_changed_at') }}, orders.order_date) as refund_date,
    round(least(
        opportunities.amount_company,
        case
            when opportunities.amount > 0 and orders.currency is not distinct from opportunities.currency
                then orders.amount * opportunities.amount_company / opportunities.amount
            else opportunities.amount_company
        end
    ), 2) as refunded_amount_company
from orders
inner join opportunities on opportunities.opportunity_id = orders.opportunity_id
