-- Every score from 0 up gets a grade: the lowest band starts at 0.
select min(min_score) as lowest_band
from {{ ref('grade_bands') }}
having min(min_score) <> 0
