-- Won revenue per day (company-local close date) for every rep, team, region and the company.
with won as (

    select
        owner_id,
        coalesce(team_id, 'unassigned') as team_key,
        region,
        {{ local_date('closed_at') }} as date_day,
        coalesce(amount_company, 0) as amount
    from {{ ref('fct_opportunities') }}
    where is_won and closed_at is not null

)

select
    case
        when grouping(owner_id) = 0 then 'rep'
        when grouping(team_key) = 0 then 'team'
        when grouping(region) = 0 then 'region'
        else 'company'
    end as level,
    coalesce(owner_id, team_key, region, 'company') as level_key,
    date_day,
    sum(amount) as revenue
from won
group by grouping sets (
    (owner_id, date_day), (team_key, date_day), (region, date_day), (date_day)
)
