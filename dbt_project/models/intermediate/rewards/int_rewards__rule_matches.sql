-- Which rep earns which reward rule in which closed period: the KPI condition, the sample
-- and tenure conditions, held for `consecutive_periods` periods in a row, then the rank
-- among the eligible within the rule's scope (team, region, company) within `top_n`.
{{ config(materialized='table') }}

with rules as (
    select * from {{ ref('reward_rules') }}
),

measures as (
    select * from {{ ref('int_rewards__rep_measures') }}
),

evaluated as (
    select
        rules.rule_id,
        rules.period_type,
        measures.rep_id,
        measures.period_start,
        measures.period_index,
        measures.team_id,
        measures.region,
        measures.tenure_days,
        measures.value as kpi_value,
        samples.value as sample_value,
        bases.value as base_value,
        measures.value is not null
        and (rules.threshold is null
            or coalesce({{ compare('measures.value', 'rules.operator', 'rules.threshold') }}, false))
        and (rules.min_sample is null or coalesce(samples.value, 0) >= rules.min_sample)
        and (rules.max_tenure_days is null or measures.tenure_days <= rules.max_tenure_days)
        as meets_condition
    from rules
    inner join measures
        on measures.kpi = rules.kpi
        and measures.period_type = rules.period_type
    left join measures as samples
        on samples.kpi = rules.sample_kpi
        and samples.rep_id = measures.rep_id
        and samples.period_type = measures.period_type
        and samples.period_start = measures.period_start
    left join measures as bases
        on bases.kpi = rules.base_kpi
        and bases.rep_id = measures.rep_id
        and bases.period_type = measures.period_type
        and bases.period_start = measures.period_start
),

islands as (
    select
        *,
        period_index - row_number() over (
            partition by rule_id, rep_id order by period_index
        ) as island
    from evaluated
    where meets_condition
),

streaks as (
    select
        islands.*,
        row_number() over (
            partition by rule_id, rep_id, island order by period_index
        ) as streak
    from islands
),

eligible as (
    select
        streaks.*,
        rules.rank_scope,
        case rules.rank_scope
            when 'team' then streaks.team_id
            when 'region' then streaks.region
            else 'company'
        end as scope_key,
        rules.top_n
    from streaks
    inner join rules on rules.rule_id = streaks.rule_id
    where streaks.streak >= coalesce(rules.consecutive_periods, 1)
),

ranked as (
    select
        eligible.*,
        rank() over (
            partition by rule_id, period_start, scope_key order by kpi_value desc
        ) as scope_rank,
        count(*) over (partition by rule_id, period_start, scope_key) as scope_eligible
    from eligible
)

select
    rule_id,
    period_type,
    period_start,
    rep_id,
    team_id,
    region,
    tenure_days,
    kpi_value,
    sample_value,
    base_value,
    streak,
    rank_scope,
    scope_key,
    scope_rank,
    scope_eligible
from ranked
where top_n is null or scope_rank <= top_n
