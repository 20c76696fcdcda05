{{ config(severity='warn') }}
-- Entered targets that contradict their parent: children that were all entered and do not
-- add up to the parent, or entered children that already exceed it. The entered values
-- are kept; this lists them for the people who maintain the targets.
select
    parents.target_key,
    parents.target_value,
    sum(children.target_value) as children_total
from {{ ref('fct_sales_targets') }} as children
inner join {{ ref('fct_sales_targets') }} as parents
    on parents.target_key = children.parent_target_key
group by parents.target_key, parents.target_value
having sum(case when children.is_pinned then children.target_value else 0 end) > parents.target_value
    or (bool_and(children.is_pinned) and sum(children.target_value) <> parents.target_value)
