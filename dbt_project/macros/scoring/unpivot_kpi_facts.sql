{#- Every numeric column of a rep KPI fact as one (kpi, actual) row, read through to_jsonb so
    a KPI column added to the facts is available to the rule seeds with no code change.
    Null values stay (a KPI without data); booleans and texts are not KPIs. -#}
{% macro unpivot_kpi_facts(relation) -%}
    select
        facts.rep_id,
        facts.period_type,
        cast(facts.period_start as date) as period_start,
        facts.team_id,
        facts.region,
        facts.manager_id,
        kv.key as kpi,
        cast(kv.value #>> '{}' as numeric) as actual
    from {{ relation }} as facts
    cross join lateral jsonb_each(to_jsonb(facts)) as kv
    where jsonb_typeof(kv.value) in ('number', 'null')
      and kv.key not in ('rep_id', 'period_type', 'period_start', 'team_id', 'region', 'manager_id')
{%- endmacro %}
