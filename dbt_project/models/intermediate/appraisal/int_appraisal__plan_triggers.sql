-- Improvement rules applied to closed periods: a weak KPI (its score or actual compared
-- with the rule's threshold) becomes a plan with baseline, goal, owner and due date.
with scores as (
    select * from {{ ref('int_appraisal__kpi_scores') }}
),

rules as (
    select * from {{ ref('improvement_rules') }}
),

peer_medians as (
    select
        period_type,
        period_start,
        kpi,
        percentile_cont(0.5) within group (order by actual) as peer_median
    from scores
    where has_data
    group by period_type, period_start, kpi
),

next_better_peers as (
    -- for every value a rep had, the next higher value among the peers
    select
        period_type,
        period_start,
        kpi,
        actual,
        lead(actual) over (partition by period_type, period_start, kpi order by actual)
            as next_actual
    from (
        select distinct period_type, period_start, kpi, actual from scores where has_data
    ) as peer_values
),

closed as (
    select
        scores.*,
        {{ period_end('scores.period_type', 'scores.period_start') }} as period_end
    from scores
    where scores.has_data
      and {{ period_end('scores.period_type', 'scores.period_start') }}
        < {{ appraisal_as_of_date() }}
)

select
    md5(concat_ws('|', rules.rule_id, closed.rep_id, closed.period_type, closed.period_start))
        as plan_id,
    rules.rule_id,
    closed.rep_id,
    closed.manager_id,
    closed.team_id,
    closed.kpi,
    rules.measure,
    rules.operator,
    rules.threshold,
    closed.period_type,
    closed.period_start as created_period,
    closed.period_end + 1 as created_date,
    closed.period_end + rules.due_in_days as due_date,
    closed.actual as baseline,
    closed.score as baseline_score,
    round(case rules.goal_method
        when 'target' then closed.target
        when 'absolute' then rules.goal_param
        when 'relative' then closed.actual * (1 + rules.goal_param)
        -- the peers' median, but at least the next better peer (a median of 0 is no goal)
        when 'peer_median' then greatest(
            cast(peer_medians.peer_median as numeric), next_better_peers.next_actual
        )
    end, 4) as goal,
    rules.goal_method,
    rules.action_type,
    rules.action_text_zh,
    rules.action_text_en
from rules
inner join closed
    on closed.kpi = rules.kpi
    and closed.period_type = rules.period_type
left join peer_medians
    on peer_medians.period_type = closed.period_type
    and peer_medians.period_start = closed.period_start
    and peer_medians.kpi = closed.kpi
left join next_better_peers
    on next_better_peers.period_type = closed.period_type
    and next_better_peers.period_start = closed.period_start
    and next_better_peers.kpi = closed.kpi
    and next_better_peers.actual = closed.actual
where coalesce({{ compare(
    "case rules.measure when 'score' then closed.score else closed.actual end",
    'rules.operator', 'rules.threshold') }}, false)
