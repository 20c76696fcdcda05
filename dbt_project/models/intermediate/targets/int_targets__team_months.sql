-- Team month targets: entered ones kept, the rest of each region month shared by weight.
select
    {{ target_key('level', 'level_key', "'month'", 'month_start', 'metric') }} as target_key,
    *
from (
    {{ decompose_level(ref('int_targets__region_months'), 'team') }}
) as decomposed
