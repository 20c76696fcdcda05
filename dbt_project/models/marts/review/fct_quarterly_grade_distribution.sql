-- How many reps got each grade per quarter (every band listed, also when empty).
with summary as (
    select * from {{ ref('fct_appraisal_summary') }}
    where period_type = 'quarter' and grade is not null
),

quarters as (
    select distinct period_start as quarter_start from summary
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
)

select
    md5(concat_ws('|', quarters.quarter_start, grade_bands.grade)) as grade_distribution_id,
    quarters.quarter_start,
    grade_bands.grade,
    grade_bands.min_score,
    count(summary.rep_id) as reps,
    round(count(summary.rep_id)::numeric / nullif(sum(count(summary.rep_id)) over (
        partition by quarters.quarter_start), 0), 4) as share
from quarters
cross join grade_bands
left join summary
    on summary.period_start = quarters.quarter_start and summary.grade = grade_bands.grade
group by quarters.quarter_start, grade_bands.grade, grade_bands.min_score
