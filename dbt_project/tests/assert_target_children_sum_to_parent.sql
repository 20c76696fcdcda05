-- Decomposed targets: the children of every parent target sum exactly to it.
-- Tolerated (data-entry conflicts, reported as a warning by
-- assert_explicit_targets_conflict_with_parent): every child was entered explicitly, so
-- nothing could be shared; or the entered children already exceed the parent, so the
-- shared children got 0.
with children as (

    select
        parent_target_key,
        sum(target_value) as children_total,
        sum(case when is_pinned then target_value else 0 end) as pinned_total,
        count(case when not is_pinned then 1 end) as shared_children
    from {{ ref('fct_sales_targets') }}
    where parent_target_key is not null
    group by parent_target_key

)

select
    parents.target_key,
    parents.target_value,
    children.children_total
from children
inner join {{ ref('fct_sales_targets') }} as parents
    on parents.target_key = children.parent_target_key
where children.children_total <> parents.target_value
    and children.shared_children > 0
    and children.pinned_total <= parents.target_value
