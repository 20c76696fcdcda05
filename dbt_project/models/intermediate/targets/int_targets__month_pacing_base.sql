-- Month revenue targets per node with what earlier months of the same quarter and year
-- already expect, so expected-to-date follows the monthly (seasonal) split.
select
    targets.level,
    targets.level_key,
    targets.period_start as month_start,
    months.quarter_start,
    months.year_start,
    months.days_in_month,
    targets.target_value,
    coalesce(sum(targets.target_value) over (
        partition by targets.level, targets.level_key, months.quarter_start
        order by targets.period_start rows between unbounded preceding and 1 preceding
    ), 0) as expected_before_in_quarter,
    coalesce(sum(targets.target_value) over (
        partition by targets.level, targets.level_key, months.year_start
        order by targets.period_start rows between unbounded preceding and 1 preceding
    ), 0) as expected_before_in_year
from {{ ref('fct_sales_targets') }} as targets
inner join {{ ref('int_calendar__months') }} as months
    on months.month_start = targets.period_start
where targets.metric = 'revenue'
    and targets.period_type = 'month'
