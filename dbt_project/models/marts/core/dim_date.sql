-- Calendar with fiscal periods: quarter_start and year_start follow the fiscal year
-- (company_settings.fiscal_year_start_month).
select * from {{ ref('int_calendar__days') }}
