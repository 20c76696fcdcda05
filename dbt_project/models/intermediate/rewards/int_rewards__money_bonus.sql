-- Money rewards: the tiered bonus on attainment with accelerator and cap, and the numbers
-- that earned it. kpi_value is the attainment, base_value the base (e.g. revenue).
with matches as (
    select * from {{ ref('int_rewards__rule_matches') }}
),

rules as (
    select * from {{ ref('reward_rules') }} where kind = 'money'
),

tiers as (
    select * from {{ ref('reward_tiers') }}
),

priced as (
    select
        matches.rule_id,
        matches.period_type,
        matches.period_start,
        matches.rep_id,
        matches.kpi_value as attainment,
        matches.base_value,
        tiers.tier,
        tiers.from_attainment,
        tiers.to_attainment,
        tiers.rate,
        rules.accelerator_from is not null
        and matches.kpi_value >= rules.accelerator_from as accelerated,
        rules.accelerator,
        rules.accelerator_from,
        rules.cap_amount,
        rules.clawback_on_refund,
        round(coalesce(matches.base_value, 0) * tiers.rate
            * case when rules.accelerator_from is not null
                and matches.kpi_value >= rules.accelerator_from
                then coalesce(rules.accelerator, 1) else 1 end, 2) as uncapped_amount,
        {{ tiered_bonus('matches.rule_id', 'matches.kpi_value', 'coalesce(matches.base_value, 0)') }}
            as amount
    from matches
    inner join rules on rules.rule_id = matches.rule_id
    inner join tiers
        on tiers.rule_id = matches.rule_id
        and matches.kpi_value >= tiers.from_attainment
        and (tiers.to_attainment is null or matches.kpi_value < tiers.to_attainment)
)

select
    *,
    amount < uncapped_amount as capped,
    'Attainment ' || {{ fmt_pct('attainment') }} || ' on ' || {{ fmt_num('base_value') }}
    || ': tier ' || tier || ' (' || {{ fmt_pct('from_attainment') }}
    || coalesce(' to ' || {{ fmt_pct('to_attainment') }}, ' and above') || ') at ' || {{ fmt_pct('rate') }}
    || case when accelerated then ', accelerator x' || {{ fmt_num('accelerator', 2) }}
        || ' from ' || {{ fmt_pct('accelerator_from') }} else '' end
    || ' = ' || {{ fmt_num('uncapped_amount', 2) }}
    || case when amount < uncapped_amount
        then ', capped at ' || {{ fmt_num('cap_amount', 2) }} else '' end
    || '.' as reason,
    '达成率 ' || {{ fmt_pct('attainment') }} || '，基数 ' || {{ fmt_num('base_value') }}
    || '：第 ' || tier || ' 档（' || {{ fmt_pct('from_attainment') }}
    || coalesce(' 至 ' || {{ fmt_pct('to_attainment') }}, ' 及以上') || '），比例 ' || {{ fmt_pct('rate') }}
    || case when accelerated then '，自 ' || {{ fmt_pct('accelerator_from') }} || ' 起加速 x'
        || {{ fmt_num('accelerator', 2) }} else '' end
    || ' = ' || {{ fmt_num('uncapped_amount', 2) }}
    || case when amount < uncapped_amount
        then '，封顶 ' || {{ fmt_num('cap_amount', 2) }} else '' end
    || '。' as reason_zh
from priced
where amount > 0
