-- Rep month targets: entered ones kept, the rest of each team month shared by weight and
-- prorated by the days each rep was employed in the month.
select
    {{ target_key('level', 'level_key', "'month'", 'month_start', 'metric') }} as target_key,
    *
from (
    {{ decompose_level(ref('int_targets__team_months'), 'rep') }}
) as decomposed
