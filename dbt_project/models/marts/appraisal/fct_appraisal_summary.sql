-- One row per rep and period: total score, grade, rank in team and company, and the note
-- that explains any renormalised weights or small samples.
with totals as (
    select * from {{ ref('int_appraisal__totals') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
)

select
    md5(concat_ws('|', totals.rep_id, totals.period_type, totals.period_start)) as appraisal_id,
    totals.rep_id,
    totals.period_type,
    totals.period_start,
    {{ period_end('totals.period_type', 'totals.period_start') }} as period_end,
    {{ period_end('totals.period_type', 'totals.period_start') }}
        < {{ appraisal_as_of_date() }} as is_period_closed,
    totals.team_id,
    totals.region,
    totals.manager_id,
    totals.total_score,
    totals.grade,
    grade_bands.label_zh as grade_label_zh,
    grade_bands.label_en as grade_label_en,
    case when totals.total_score is not null then
        rank() over (
            partition by totals.period_type, totals.period_start, totals.team_id,
                totals.total_score is not null
            order by totals.total_score desc
        )
    end as rank_in_team,
    count(totals.total_score) over (
        partition by totals.period_type, totals.period_start, totals.team_id
    ) as reps_in_team,
    case when totals.total_score is not null then
        rank() over (
            partition by totals.period_type, totals.period_start, totals.total_score is not null
            order by totals.total_score desc
        )
    end as rank_in_company,
    count(totals.total_score) over (
        partition by totals.period_type, totals.period_start
    ) as reps_in_company,
    totals.kpis_scored,
    totals.kpis_total,
    totals.weights_renormalised,
    totals.below_min_sample,
    totals.kpis_without_data,
    totals.kpis_without_target,
    totals.kpis_below_min_sample,
    totals.note,
    totals.note_zh
from totals
left join grade_bands on grade_bands.grade = totals.grade
