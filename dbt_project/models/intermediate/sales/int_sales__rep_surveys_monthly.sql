-- Customer satisfaction per rep and month: CSAT (1-5) and NPS counts (promoters 9-10,
-- detractors 0-6).
-- A table, not a view: its data test reads it whole, and as a view it was computed twice per
-- build (for the test and again inside fct_rep_kpis_monthly); the test took 0.14 s of node
-- time on the medium bench.
{{ config(materialized='table') }}
select
    rep_id,
    {{ local_month('surveyed_at') }} as month_start,
    sum(case when csat between 1 and 5 then csat end) as csat_sum,
    count(case when csat between 1 and 5 then 1 end) as csat_responses,
    count(case when nps between 9 and 10 then 1 end) as nps_promoters,
    count(case when nps between 0 and 6 then 1 end) as nps_detractors,
    count(case when nps between 0 and 10 then 1 end) as nps_responses
from {{ ref('stg_crm__satisfaction_surveys') }}
where rep_id is not null and surveyed_at is not null
group by rep_id, {{ local_month('surveyed_at') }}
