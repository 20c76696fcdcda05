-- Each scoring method has the parameters it needs.
select kpi, method, 'target_ratio needs target_metric' as problem
from {{ ref('kpi_scorecard') }}
where method = 'target_ratio' and target_metric is null
union all
select kpi, method, 'linear needs floor <> ceiling'
from {{ ref('kpi_scorecard') }}
where method = 'linear' and (floor is null or ceiling is null or floor = ceiling)
union all
select kpi, method, 'linear direction: higher_is_better must equal ceiling > floor'
from {{ ref('kpi_scorecard') }}
where method = 'linear' and coalesce(higher_is_better, true) <> (ceiling > floor)
union all
select kpi, method, 'percentile needs 0 <= floor < ceiling <= 150'
from {{ ref('kpi_scorecard') }}
where method = 'percentile'
  and (floor is null or ceiling is null or floor < 0 or floor >= ceiling or ceiling > 150)
union all
select kpi, method, 'min_sample needs sample_kpi'
from {{ ref('kpi_scorecard') }}
where min_sample is not null and sample_kpi is null
