-- The twelve monthly seasonality weights must sum to 1 (a year target is spread exactly).
select sum(weight) as total
from {{ ref('seasonality') }}
having count(*) <> 12 or abs(sum(weight) - 1) > 0.000001
