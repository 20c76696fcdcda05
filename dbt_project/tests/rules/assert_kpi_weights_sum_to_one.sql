-- The scorecard weights must add up to exactly 1.
select sum(weight) as total_weight
from {{ ref('kpi_scorecard') }}
having abs(sum(weight) - 1) > 0.000001
