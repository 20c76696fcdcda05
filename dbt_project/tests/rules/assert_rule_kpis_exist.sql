-- Every KPI a rule names exists as a numeric column of the rep KPI facts (or is one of the
-- measures the appraisal derives: deals_closed, total_score).
{% set kpi_facts = ref('fct_rep_kpis_monthly') %}
with available as (
    select column_name as kpi
    from information_schema.columns
    where table_schema = '{{ kpi_facts.schema }}'
      and table_name = '{{ kpi_facts.identifier }}'
      and data_type in ('numeric', 'integer', 'bigint', 'smallint', 'double precision', 'real')
    union all
    select kpi from (values ('deals_closed'), ('total_score')) as derived (kpi)
),

referenced as (
    select 'kpi_scorecard.kpi' as used_in, kpi from {{ ref('kpi_scorecard') }}
    union all
    select 'kpi_scorecard.sample_kpi', sample_kpi from {{ ref('kpi_scorecard') }}
    union all
    select 'improvement_rules.kpi', kpi from {{ ref('improvement_rules') }}
    union all
    select 'reward_rules.kpi', kpi from {{ ref('reward_rules') }}
    union all
    select 'reward_rules.sample_kpi', sample_kpi from {{ ref('reward_rules') }}
    union all
    select 'reward_rules.base_kpi', base_kpi from {{ ref('reward_rules') }}
)

select referenced.used_in, referenced.kpi
from referenced
where referenced.kpi is not null
  and (
      referenced.kpi not in (select available.kpi from available)
      -- the total cannot be one of its own parts
      or (referenced.used_in like 'kpi_scorecard.%' and referenced.kpi = 'total_score')
  )
