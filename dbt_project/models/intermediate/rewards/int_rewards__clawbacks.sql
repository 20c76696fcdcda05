-- Clawbacks: when a deal that counted in a money reward is refunded or cancelled, the
-- bonus is recomputed without it and the difference becomes a negative reward in the
-- period of the refund, but never earlier than the period after the reward.
-- A table, not a view: it reads two views that dbt may rebuild at the same time, and a
-- rebuilt view drops its old version with CASCADE; two such drops reaching this view at
-- once deadlock (seen in a daily build). tests/test_dag_integrity.py keeps this true.
{{ config(materialized='table') }}
with bonuses as (
    select * from {{ ref('int_rewards__money_bonus') }}
    where clawback_on_refund
),

refunds as (
    select * from {{ ref('int_rewards__refunded_deals') }}
),

refunds_per_period as (
    select
        bonuses.rule_id,
        bonuses.rep_id,
        bonuses.period_type,
        bonuses.period_start as reward_period_start,
        greatest(
            cast(date_trunc(bonuses.period_type, refunds.refund_date) as date),
            {{ period_shift('bonuses.period_type', 'bonuses.period_start', 1) }}
        ) as period_start,
        sum(refunds.refunded_amount_company) as refunded_amount,
        string_agg(refunds.opportunity_id || ' (' || refunds.status || ' '
            || {{ fmt_num('refunds.refunded_amount_company') }} || ')', ', '
            order by refunds.opportunity_id) as deals,
        string_agg(refunds.opportunity_id || '（' || case refunds.status
                when 'refunded' then '退款' else '取消' end || ' '
            || {{ fmt_num('refunds.refunded_amount_company') }} || '）', '，'
            order by refunds.opportunity_id) as deals_zh
    from bonuses
    inner join refunds
        on refunds.rep_id = bonuses.rep_id
        and refunds.closed_date >= bonuses.period_start
        and refunds.closed_date <= {{ period_end('bonuses.period_type', 'bonuses.period_start') }}
    group by 1, 2, 3, 4, 5
),

recomputed as (
    select
        refunds_per_period.*,
        bonuses.amount as original_amount,
        bonuses.attainment as original_attainment,
        bonuses.base_value as original_base,
        greatest(bonuses.base_value - sum(refunds_per_period.refunded_amount) over (
            partition by refunds_per_period.rule_id, refunds_per_period.rep_id,
                refunds_per_period.reward_period_start
            order by refunds_per_period.period_start
        ), 0) as base_after
    from refunds_per_period
    inner join bonuses
        on bonuses.rule_id = refunds_per_period.rule_id
        and bonuses.rep_id = refunds_per_period.rep_id
        and bonuses.period_start = refunds_per_period.reward_period_start
),

repriced as (
    select
        recomputed.*,
        case when original_base > 0
            then original_attainment * base_after / original_base else 0
        end as attainment_after
    from recomputed
),

amounts as (
    select
        repriced.*,
        {{ tiered_bonus('repriced.rule_id', 'repriced.attainment_after', 'repriced.base_after') }}
            as amount_after
    from repriced
),

deltas as (
    select
        amounts.*,
        amount_after - lag(amount_after, 1, original_amount) over (
            partition by rule_id, rep_id, reward_period_start order by period_start
        ) as amount
    from amounts
)

select
    rule_id,
    rep_id,
    period_type,
    period_start,
    reward_period_start,
    {{ reward_id('rule_id', 'rep_id', 'period_type', 'reward_period_start') }}
        as references_reward_id,
    refunded_amount,
    attainment_after,
    amount_after,
    amount,
    'Clawback: deals ' || deals || ' of '
    || {{ period_label('period_type', 'reward_period_start', 'en') }}
    || ' were refunded or cancelled; base '
    || {{ fmt_num('original_base') }} || ' -> ' || {{ fmt_num('base_after') }}
    || ', attainment ' || {{ fmt_pct('original_attainment') }} || ' -> '
    || {{ fmt_pct('attainment_after') }} || ', bonus now ' || {{ fmt_num('amount_after', 2) }}
    || '.' as reason,
    '追回：' || {{ period_label('period_type', 'reward_period_start', 'zh') }} || '的商机 '
    || deals_zh || '已退款或取消；基数 '
    || {{ fmt_num('original_base') }} || ' -> ' || {{ fmt_num('base_after') }}
    || '，达成率 ' || {{ fmt_pct('original_attainment') }} || ' -> '
    || {{ fmt_pct('attainment_after') }} || '，奖金调整为 ' || {{ fmt_num('amount_after', 2) }}
    || '。' as reason_zh
from deltas
where amount < 0
