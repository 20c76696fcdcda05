-- Company month targets (from entered company targets), the root of the decomposition.
select
    {{ target_key("'company'", 'level_key', "'month'", 'month_start', 'metric') }} as target_key,
    level,
    level_key,
    month_start,
    metric,
    scale,
    target_value,
    cast(null as text) as parent_target_key,
    true as is_pinned
from {{ ref('int_targets__months_by_node') }}
where level = 'company'
