-- FX rates to the company currency as validity intervals [valid_from, valid_to).
select
    upper(trim(currency)) as currency,
    rate_to_company,
    valid_from,
    coalesce(
        lead(valid_from) over (partition by upper(trim(currency)) order by valid_from),
        cast('9999-12-31' as date)
    ) as valid_to
from {{ ref('fx_rates') }}
