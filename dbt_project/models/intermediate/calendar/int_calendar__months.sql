-- One row per month of the calendar, with its fiscal quarter and year.
select
    month_start,
    max(month_end) as month_end,
    max(quarter_start) as quarter_start,
    max(year_start) as year_start,
    max(fiscal_year) as fiscal_year,
    max(fiscal_quarter) as fiscal_quarter,
    max(month_of_year) as month_of_year,
    max(days_in_month) as days_in_month
from {{ ref('int_calendar__days') }}
group by month_start
