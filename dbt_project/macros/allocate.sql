{#- Split each parent amount over its children by weight, exactly.

    `rows` is a CTE with one row per (parent, child): the parent amount (`amount`, already
    rounded to the unit), a child `weight` (>= 0) and a deterministic `tiebreak`.
    Largest-remainder method on units of 10^-scale: each child gets floor(share) units,
    the units left over go one each to the largest fractional parts (ties: tiebreak),
    so the children sum to the parent exactly. Weights summing to zero mean equal shares.
    Returns every column of `rows` plus `allocated`. -#}
{% macro allocate_largest_remainder(rows, partition_by, amount='amount', weight='weight', tiebreak='tiebreak', scale='scale') %}
    {%- set part = partition_by | join(', ') -%}
    select
        *,
        round(
            (floor_units + case when remainder_rank <= leftover_units then 1 else 0 end)
                / power(10::numeric, {{ scale }}),
            {{ scale }}
        ) as allocated
    from (
        select
            *,
            total_units - sum(floor_units) over (partition by {{ part }}) as leftover_units,
            row_number() over (
                partition by {{ part }}
                order by share_units - floor_units desc, {{ tiebreak }}
            ) as remainder_rank
        from (
            select
                *,
                floor(share_units) as floor_units
            from (
                select
                    *,
                    round(greatest({{ amount }}, 0) * power(10::numeric, {{ scale }})) as total_units,
                    case
                        when sum(greatest({{ weight }}, 0)) over (partition by {{ part }}) > 0
                            then round(greatest({{ amount }}, 0) * power(10::numeric, {{ scale }}))
                                * greatest({{ weight }}, 0)::numeric
                                / sum(greatest({{ weight }}, 0)) over (partition by {{ part }})
                        else round(greatest({{ amount }}, 0) * power(10::numeric, {{ scale }}))
                            / count(*) over (partition by {{ part }})
                    end as share_units
                from {{ rows }}
            ) as shares
        ) as floored
    ) as ranked
{% endmacro %}
