-- Quarter targets of every node with explicit targets: entered quarters as they are; the
-- other quarters of an entered year share what the entered quarters leave, by seasonality.
with explicit as (

    select * from {{ ref('int_targets__explicit') }}

),

quarter_weights as (

    select
        months.year_start,
        months.quarter_start,
        sum(seasonality.weight) as weight
    from {{ ref('int_calendar__months') }} as months
    inner join {{ ref('seasonality') }} as seasonality
        on seasonality.month_of_year = months.month_of_year
    group by months.year_start, months.quarter_start

),

-- What the entered quarters of each year hold: a join and one aggregate, not a subquery per
-- year (see int_targets__months_by_node).
entered as (

    select
        years.level,
        years.level_key,
        years.metric,
        years.period_start,
        sum(q.target_value) as target_value
    from explicit as years
    inner join explicit as q
        on q.level = years.level and q.level_key = years.level_key
            and q.metric = years.metric and q.period_type = 'quarter'
            and q.period_start >= years.period_start
            and q.period_start < years.period_start + interval '1 year'
    where years.period_type = 'year'
    group by years.level, years.level_key, years.metric, years.period_start

),

years as (

    select
        years.*,
        years.target_value - coalesce(entered.target_value, 0) as amount
    from explicit as years
    left join entered
        on entered.level = years.level and entered.level_key = years.level_key
            and entered.metric = years.metric and entered.period_start = years.period_start
    where years.period_type = 'year'

),

open_quarters as (

    select
        years.level,
        years.level_key,
        years.metric,
        years.scale,
        years.period_start as year_start,
        quarter_weights.quarter_start,
        years.amount,
        quarter_weights.weight,
        quarter_weights.quarter_start as tiebreak
    from years
    inner join quarter_weights
        on quarter_weights.year_start = years.period_start
    where not exists (
        select 1 from explicit as q
        where q.level = years.level and q.level_key = years.level_key and q.metric = years.metric
            and q.period_type = 'quarter' and q.period_start = quarter_weights.quarter_start
    )

),

allocated as (

    {{ allocate_largest_remainder('open_quarters', ['level', 'level_key', 'metric', 'year_start']) }}

)

select level, level_key, metric, scale, quarter_start, allocated as target_value, false as is_explicit
from allocated
union all
select level, level_key, metric, scale, period_start, target_value, true
from explicit
where period_type = 'quarter'
