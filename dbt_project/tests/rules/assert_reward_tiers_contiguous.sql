-- The attainment tiers of each money rule are contiguous and end with one open tier;
-- money rules have tiers and their qualifying threshold is the first tier's start;
-- other kinds have none.
with tiers as (
    select
        rule_id,
        tier,
        from_attainment,
        to_attainment,
        lag(to_attainment) over (partition by rule_id order by tier) as previous_to,
        row_number() over (partition by rule_id order by tier desc) as from_last
    from {{ ref('reward_tiers') }}
),

rules as (
    select * from {{ ref('reward_rules') }}
)

select rule_id, tier, 'gap or overlap with the previous tier' as problem
from tiers
where previous_to is not null and previous_to <> from_attainment
union all
select rule_id, tier, 'only the last tier may be open'
from tiers
where (to_attainment is null) <> (from_last = 1)
union all
select rule_id, tier, 'tier ends before it starts'
from tiers
where to_attainment is not null and to_attainment <= from_attainment
union all
select r.rule_id, null, 'money rule without tiers or with a threshold other than the first tier'
from rules as r
left join tiers as t on t.rule_id = r.rule_id and t.tier = (
    select min(tier) from tiers as t2 where t2.rule_id = r.rule_id
)
where r.kind = 'money'
  and (t.rule_id is null or r.threshold is distinct from t.from_attainment or r.operator <> '>='
       or r.base_kpi is null)
union all
select r.rule_id, null, 'tiers on a rule that is not money'
from rules as r
join tiers as t on t.rule_id = r.rule_id
where r.kind <> 'money'
union all
select rule_id, null, 'accelerator must be >= 1 and start at or above the first tier'
from rules
where accelerator is not null
  and (accelerator < 1 or accelerator_from is null or accelerator_from < threshold)
