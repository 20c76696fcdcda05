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
    {{ org_level_columns() }},
    date_day,
    sum(amount) as revenue
from won
group by {{ org_level_grouping_sets(['date_day']) }}
