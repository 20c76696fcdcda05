-- Month targets of every node with explicit targets: entered months as they are; the other
-- months of a known quarter share what the entered months leave, by seasonality.
with explicit_months as (

    select * from {{ ref('int_targets__explicit') }}
    where period_type = 'month'

),

-- What the entered months of each quarter hold. A join and one aggregate, not a subquery
-- per quarter: that scanned every entered month once per quarter row (quadratic in the
-- number of reps).
entered as (

    select
        quarters.level,
        quarters.level_key,
        quarters.metric,
        quarters.quarter_start,
        sum(m.target_value) as target_value
    from {{ ref('int_targets__quarters') }} as quarters
    inner join explicit_months as m
        on m.level = quarters.level and m.level_key = quarters.level_key
            and m.metric = quarters.metric
            and m.period_start >= quarters.quarter_start
            and m.period_start < quarters.quarter_start + interval '3 month'
    group by quarters.level, quarters.level_key, quarters.metric, quarters.quarter_start

),

quarters as (

    select
        quarters.*,
        quarters.target_value - coalesce(entered.target_value, 0) as amount
    from {{ ref('int_targets__quarters') }} as quarters
    left join entered
        on entered.level = quarters.level and entered.level_key = quarters.level_key
            and entered.metric = quarters.metric
            and entered.quarter_start = quarters.quarter_start

),

open_months as (

    select
        quarters.level,
        quarters.level_key,
        quarters.metric,
        quarters.scale,
        quarters.quarter_start,
        months.month_start,
        quarters.amount,
        seasonality.weight,
        months.month_start as tiebreak
    from quarters
    inner join {{ ref('int_calendar__months') }} as months
        on months.quarter_start = quarters.quarter_start
    inner join {{ ref('seasonality') }} as seasonality
        on seasonality.month_of_year = months.month_of_year
    where not exists (
        select 1 from explicit_months as m
        where m.level = quarters.level and m.level_key = quarters.level_key
            and m.metric = quarters.metric and m.period_start = months.month_start
    )

),

allocated as (

    {{ allocate_largest_remainder('open_months', ['level', 'level_key', 'metric', 'quarter_start']) }}

)

select level, level_key, metric, scale, month_start, allocated as target_value, false as is_explicit
from allocated
union all
select level, level_key, metric, scale, period_start, target_value, true
from explicit_months
