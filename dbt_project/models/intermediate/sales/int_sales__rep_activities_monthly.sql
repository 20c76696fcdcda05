-- Activities per rep and month, by type. A table: activities are the largest landing table
-- and this aggregate is read several times.
{{ config(materialized='table') }}

select
    owner_id as rep_id,
    {{ local_month('occurred_at') }} as month_start,
    count(*) as activities_total,
    count(case when activity_type = 'call' then 1 end) as calls,
    count(case when activity_type = 'meeting' then 1 end) as meetings,
    count(case when activity_type = 'visit' then 1 end) as visits,
    count(case when activity_type = 'email' then 1 end) as emails,
    count(case when activity_type = 'demo' then 1 end) as demos
from {{ ref('stg_crm__activities') }}
where occurred_at is not null
group by owner_id, {{ local_month('occurred_at') }}
