-- Every reward: money bonuses, honours, training and promotion nominations, and clawbacks
-- (negative, referencing the reward they take back). reward_id is md5(rule, rep, period)
-- (plus the referenced reward for a clawback), so a rebuild keeps every id.
with rules as (
    select * from {{ ref('reward_rules') }}
),

matches as (
    select * from {{ ref('int_rewards__rule_matches') }}
),

labels as (
    select kpi, label_en, label_zh from {{ ref('kpi_scorecard') }}
    union all
    select * from (values
        ('total_score', 'Total score', '综合得分'),
        ('csat_responses', 'Surveys', '满意度调查数'),
        ('nps_responses', 'NPS responses', 'NPS 答卷数'),
        ('deals_closed', 'Closed deals', '已结束商机数')
    ) as extra (kpi, label_en, label_zh)
    where extra.kpi not in (select kpi from {{ ref('kpi_scorecard') }})
),

money as (
    select
        rule_id, rep_id, period_type, period_start, amount, reason, reason_zh,
        cast(null as text) as references_reward_id
    from {{ ref('int_rewards__money_bonus') }}
),

recognitions as (
    select
        matches.rule_id,
        matches.rep_id,
        matches.period_type,
        matches.period_start,
        rules.fixed_amount as amount,
        coalesce(labels.label_en, rules.kpi) || ' ' || {{ fmt_smart('matches.kpi_value') }}
        || coalesce(' (' || rules.operator || ' ' || {{ fmt_smart('rules.threshold') }} || ')', '')
        || case when rules.sample_kpi is not null
            then ', ' || coalesce(sample_labels.label_en, rules.sample_kpi) || ' '
                || {{ fmt_num('matches.sample_value') }}
                || ' (>= ' || {{ fmt_num('rules.min_sample') }} || ')' else '' end
        || case when rules.max_tenure_days is not null
            then ', tenure ' || matches.tenure_days || ' days (<= '
                || rules.max_tenure_days || ')' else '' end
        || case when coalesce(rules.consecutive_periods, 1) > 1
            then ', ' || matches.streak || ' ' || rules.period_type || 's in a row' else '' end
        || case when rules.top_n is not null
            then ', rank ' || matches.scope_rank || ' of ' || matches.scope_eligible
                || ' eligible in ' || rules.rank_scope
                || case when rules.rank_scope <> 'company' then ' ' || matches.scope_key else '' end
            else '' end
        || '.' as reason,
        coalesce(labels.label_zh, rules.kpi) || ' ' || {{ fmt_smart('matches.kpi_value') }}
        || coalesce('（' || rules.operator || ' ' || {{ fmt_smart('rules.threshold') }} || '）', '')
        || case when rules.sample_kpi is not null
            then '，' || coalesce(sample_labels.label_zh, rules.sample_kpi) || ' '
                || {{ fmt_num('matches.sample_value') }}
                || '（>= ' || {{ fmt_num('rules.min_sample') }} || '）' else '' end
        || case when rules.max_tenure_days is not null
            then '，入职 ' || matches.tenure_days || ' 天（<= '
                || rules.max_tenure_days || '）' else '' end
        || case when coalesce(rules.consecutive_periods, 1) > 1
            then '，连续 ' || matches.streak || ' 期' else '' end
        || case when rules.top_n is not null
            then '，在' || case rules.rank_scope when 'team' then '团队 ' || matches.scope_key || ' '
                when 'region' then '区域 ' || matches.scope_key || ' ' else '全公司' end
                || '符合条件的 ' || matches.scope_eligible || ' 人中排名第 ' || matches.scope_rank
            else '' end
        || '。' as reason_zh,
        cast(null as text) as references_reward_id
    from matches
    inner join rules on rules.rule_id = matches.rule_id
    left join labels on labels.kpi = rules.kpi
    left join labels as sample_labels on sample_labels.kpi = rules.sample_kpi
    where rules.kind <> 'money'
),

clawbacks as (
    select
        rule_id, rep_id, period_type, period_start, amount, reason, reason_zh,
        references_reward_id
    from {{ ref('int_rewards__clawbacks') }}
),

all_rewards as (
    select * from money
    union all
    select * from recognitions
    union all
    select * from clawbacks
),

reps as (
    select rep_id, team_id, region, manager_id from {{ ref('dim_reps') }}
)

select
    {{ reward_id('all_rewards.rule_id', 'all_rewards.rep_id', 'all_rewards.period_type',
        'all_rewards.period_start', 'all_rewards.references_reward_id') }} as reward_id,
    all_rewards.rule_id,
    all_rewards.rep_id,
    all_rewards.period_type,
    all_rewards.period_start,
    {{ period_end('all_rewards.period_type', 'all_rewards.period_start') }} as period_end,
    rules.kind,
    case when all_rewards.references_reward_id is not null
        then '追回：' || rules.title_zh else rules.title_zh end as title_zh,
    case when all_rewards.references_reward_id is not null
        then 'Clawback: ' || rules.title_en else rules.title_en end as title_en,
    all_rewards.amount,
    case when all_rewards.amount is not null
        then {{ company_setting('currency') }} end as currency,
    all_rewards.reason,
    all_rewards.reason_zh,
    all_rewards.references_reward_id,
    all_rewards.references_reward_id is not null as is_clawback,
    reps.team_id,
    reps.region,
    reps.manager_id
from all_rewards
inner join rules on rules.rule_id = all_rewards.rule_id
left join reps on reps.rep_id = all_rewards.rep_id
