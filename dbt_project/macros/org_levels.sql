{#- The four levels a figure rolls up to (rep, team, region, company), for models that
    aggregate with `group by {{ org_level_grouping_sets(...) }}` and select
    `{{ org_level_columns(...) }}`: `level` is the finest column the row is grouped by and
    `level_key` its value ('company' for the grand total). `by` lists the columns grouped at
    every level (month, day, stage...). -#}
{% macro org_level_columns(rep='owner_id', team='team_key', region='region') -%}
    case
        when grouping({{ rep }}) = 0 then 'rep'
        when grouping({{ team }}) = 0 then 'team'
        when grouping({{ region }}) = 0 then 'region'
        else 'company'
    end as level,
    coalesce({{ rep }}, {{ team }}, {{ region }}, 'company') as level_key
{%- endmacro %}

{% macro org_level_grouping_sets(by, rep='owner_id', team='team_key', region='region') -%}
    {%- set rest = by | join(', ') -%}
    grouping sets (
        ({{ rep }}, {{ rest }}), ({{ team }}, {{ rest }}), ({{ region }}, {{ rest }}), ({{ rest }})
    )
{%- endmacro %}
