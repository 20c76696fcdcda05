{#- What fct_target_pacing_daily's incremental run starts from: `last_day`, the last day
    the table holds as a date literal (-infinity when empty: every day is new), and
    `has_revenue`. A table built before the model kept each day's revenue has no such
    column: last_day is then -infinity, so every period counts as changed, once. -#}
{% macro pacing_built_state() -%}
    {%- set state = {'last_day': "cast('-infinity' as date)", 'has_revenue': true} -%}
    {%- if execute -%}
        {%- do state.update({'has_revenue': relation_has_column(this, 'revenue')}) -%}
        {%- if state.has_revenue -%}
            {%- set query -%}
                select coalesce(cast(max(as_of_date) as text), '-infinity') from {{ this }}
            {%- endset -%}
            {%- set last = run_query(query).columns[0].values()[0] -%}
            {%- do state.update({'last_day': "cast(" ~ dbt.string_literal(last) ~ " as date)"}) -%}
        {%- endif -%}
    {%- endif -%}
    {{- return(state) -}}
{%- endmacro %}

{#- Post-hook of fct_target_pacing_daily: drop the days after the as-of date (it moved back)
    and the periods whose revenue target is gone; delete+insert only replaces rows that are
    built again. -#}
{% macro delete_stale_pacing_rows() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as pacing
    where pacing.as_of_date > (select as_of_date from {{ ref('int_calendar__as_of_date') }})
        or not exists (
            select 1
            from {{ ref('fct_sales_targets') }} as targets
            where targets.metric = 'revenue'
                and targets.level = pacing.level
                and targets.level_key = pacing.level_key
                and targets.period_type = pacing.period_type
                and targets.period_start = pacing.period_start
        )
    {%- endif -%}
{%- endmacro %}

{#- The day after a target period (month, quarter or year) starting on `start`. -#}
{% macro pacing_period_end(period_type, start) -%}
    cast({{ start }} + case {{ period_type }}
        when 'month' then interval '1 month' when 'quarter' then interval '3 month'
        else interval '1 year' end as date)
{%- endmacro %}
