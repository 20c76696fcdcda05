{#- The money bonus of a rule for an attainment and a base (e.g. revenue):
    base x rate of the tier whose [from_attainment, to_attainment) holds the attainment,
    x accelerator when attainment >= accelerator_from, capped at cap_amount; 0 below the
    first tier. A scalar expression, so the bonus and its clawback share one formula. -#}
{% macro tiered_bonus(rule_id, attainment, base) -%}
coalesce((
    select round(
        least(
            ({{ base }}) * bonus_tiers.rate * case
                when bonus_rules.accelerator_from is not null
                    and ({{ attainment }}) >= bonus_rules.accelerator_from
                    then coalesce(bonus_rules.accelerator, 1)
                else 1 end,
            coalesce(bonus_rules.cap_amount, ({{ base }}) * bonus_tiers.rate
                * greatest(coalesce(bonus_rules.accelerator, 1), 1))
        ), 2)
    from {{ ref('reward_tiers') }} as bonus_tiers
    inner join {{ ref('reward_rules') }} as bonus_rules
        on bonus_rules.rule_id = bonus_tiers.rule_id
    where bonus_tiers.rule_id = {{ rule_id }}
      and ({{ attainment }}) >= bonus_tiers.from_attainment
      and (bonus_tiers.to_attainment is null or ({{ attainment }}) < bonus_tiers.to_attainment)
), 0)
{%- endmacro %}
