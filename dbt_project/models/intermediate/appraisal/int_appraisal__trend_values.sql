-- Monthly values to trend, per rep and per team: the scorecard KPIs and the total score.
-- Team values aggregate the reps credited to the team that month (kpi_scorecard.team_agg).
with kpi_values as (
    select * from {{ ref('int_appraisal__kpi_values') }}
    where period_type = 'month'
),

scorecard as (
    select kpi, coalesce(team_agg, 'avg') as team_agg, coalesce(higher_is_better, true) as higher_is_better
    from {{ ref('kpi_scorecard') }}
    union all
    select 'total_score', 'avg', true
),

rep_values as (
    select rep_id, team_id, period_start, kpi, actual as value
    from kpi_values
    where kpi in (select kpi from scorecard)
    union all
    select rep_id, team_id, period_start, 'total_score', total_score
    from {{ ref('int_appraisal__totals') }}
    where period_type = 'month'
)

select
    'rep' as level,
    rep_values.rep_id as level_key,
    rep_values.period_start,
    rep_values.kpi,
    rep_values.value,
    scorecard.higher_is_better
from rep_values
inner join scorecard on scorecard.kpi = rep_values.kpi
union all
select
    'team',
    rep_values.team_id,
    rep_values.period_start,
    rep_values.kpi,
    case max(scorecard.team_agg)
        when 'sum' then sum(rep_values.value)
        else avg(rep_values.value)
    end,
    bool_and(scorecard.higher_is_better)
from rep_values
inner join scorecard on scorecard.kpi = rep_values.kpi
where rep_values.team_id is not null
group by rep_values.team_id, rep_values.period_start, rep_values.kpi
