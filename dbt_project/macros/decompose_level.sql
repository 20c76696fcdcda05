{#- One step down the organisation for month targets.
    parents:    target_key, level_key, month_start, metric, scale, target_value
    candidates: int_targets__org_candidates rows for `child_level`
    pinned:     the child level's own month targets (from entered targets); they keep their
                value and the parent's remainder is shared by the other children by weight.
    Returns child rows: level, level_key, month_start, metric, scale, target_value,
    parent_target_key (null when the child's target has no parent), is_pinned. -#}
{% macro decompose_level(parents, child_level) %}
with parents as (

    select * from {{ parents }}

),

pinned as (

    select * from {{ ref('int_targets__months_by_node') }}
    where level = '{{ child_level }}'

),

children as (

    select
        parents.target_key as parent_target_key,
        parents.target_value as parent_value,
        parents.month_start,
        parents.metric,
        parents.scale,
        candidates.level_key,
        candidates.weight,
        candidates.level_key as tiebreak,
        pinned.target_value as pinned_value
    from parents
    inner join {{ ref('int_targets__org_candidates') }} as candidates
        on candidates.level = '{{ child_level }}'
        and candidates.parent_level_key = parents.level_key
        and candidates.month_start = parents.month_start
    left join pinned
        on pinned.level_key = candidates.level_key
        and pinned.month_start = parents.month_start
        and pinned.metric = parents.metric

),

open_children as (

    select
        *,
        parent_value - sum(coalesce(pinned_value, 0)) over (partition by parent_target_key) as amount
    from children

),

allocated as (

    {{ allocate_largest_remainder('(select * from open_children where pinned_value is null) as o', ['parent_target_key']) }}

)

select '{{ child_level }}' as level, level_key, month_start, metric, scale,
    allocated as target_value, parent_target_key, false as is_pinned
from allocated
union all
select '{{ child_level }}', level_key, month_start, metric, scale,
    pinned_value, parent_target_key, true
from children
where pinned_value is not null
union all
select '{{ child_level }}', pinned.level_key, pinned.month_start, pinned.metric, pinned.scale,
    pinned.target_value, null, true
from pinned
where not exists (
    select 1 from children
    where children.level_key = pinned.level_key
        and children.month_start = pinned.month_start
        and children.metric = pinned.metric
)
{% endmacro %}

{#- The stable key of a target row. -#}
{% macro target_key(level, level_key, period_type, period_start, metric) -%}
    {{ level }} || ':' || {{ level_key }} || ':' || {{ period_type }} || ':'
        || cast({{ period_start }} as text) || ':' || {{ metric }}
{%- endmacro %}
