-- The first won deal of each account: who won the customer, and when.
-- A table, not a view: its data test reads it whole, and as a view it was computed twice per
-- build (for the test and again inside fct_rep_kpis_monthly); its two tests took 1.3 s of node
-- time on the medium bench.
{{ config(materialized='table') }}
with won as (

    select
        account_id,
        owner_id,
        closed_month,
        row_number() over (
            partition by account_id order by closed_at, opportunity_id
        ) as win_number
    from {{ ref('fct_opportunities') }}
    where is_won and account_id is not null and closed_month is not null

)

select
    account_id,
    owner_id as rep_id,
    closed_month as month_start
from won
where win_number = 1
