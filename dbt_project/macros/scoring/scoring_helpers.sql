{#- Small helpers shared by the appraisal, reward and improvement models. -#}

{#- The business date the rules are evaluated at (int_calendar__as_of_date: var as_of_date,
    else the latest event in the data). A period counts as closed (rewards, plans) only when
    it ended before this date. -#}
{% macro appraisal_as_of_date() -%}
  (select as_of_date from {{ ref('int_calendar__as_of_date') }})
{%- endmacro %}

{#- The last day of a period given its type ('month'|'quarter'|'year') and start. -#}
{% macro period_end(period_type, period_start) -%}
  (cast({{ period_start }} as date)
   + case {{ period_type }}
       when 'month' then interval '1 month'
       when 'quarter' then interval '3 months'
       else interval '1 year' end
   - interval '1 day')::date
{%- endmacro %}

{#- A period as readers write it, in 'en' (Q3 2026, July 2026, 2026) or 'zh'
    (2026年第3季度, 2026年7月, 2026年), as the e-mails' own labels (reports/i18n.py). -#}
{% macro period_label(period_type, period_start, lang) -%}
  {%- set y = "extract(year from " ~ period_start ~ ")::int" -%}
  {%- set q = "extract(quarter from " ~ period_start ~ ")::int" -%}
  {%- set m = "extract(month from " ~ period_start ~ ")::int" -%}
  {%- if lang == 'zh' -%}
  (case {{ period_type }}
     when 'quarter' then {{ y }} || '年第' || {{ q }} || '季度'
     when 'year' then {{ y }} || '年'
     else {{ y }} || '年' || {{ m }} || '月' end)
  {%- else -%}
  (case {{ period_type }}
     when 'quarter' then 'Q' || {{ q }} || ' ' || {{ y }}
     when 'year' then {{ y }}::text
     else to_char({{ period_start }}, 'FMMonth YYYY') end)
  {%- endif -%}
{%- endmacro %}

{#- The start of the period `n` periods after (negative: before) a period start. -#}
{% macro period_shift(period_type, period_start, n) -%}
  (cast({{ period_start }} as date)
   + ({{ n }}) * case {{ period_type }}
       when 'month' then interval '1 month'
       when 'quarter' then interval '3 months'
       else interval '1 year' end)::date
{%- endmacro %}

{#- A comparison whose operator is data (a rule seed column): '<', '<=', '>', '>='. -#}
{% macro compare(lhs, operator, rhs) -%}
  (case {{ operator }}
     when '<' then {{ lhs }} < {{ rhs }}
     when '<=' then {{ lhs }} <= {{ rhs }}
     when '>' then {{ lhs }} > {{ rhs }}
     when '>=' then {{ lhs }} >= {{ rhs }}
   end)
{%- endmacro %}

{#- Stable reward id: md5 of rule, rep and period (and, for a clawback, the reward it
    takes back), so rebuilding the marts never changes an id. -#}
{% macro reward_id(rule_id, rep_id, period_type, period_start, references_reward_id='null') -%}
  md5(concat_ws('|', {{ rule_id }}, {{ rep_id }}, {{ period_type }},
                cast({{ period_start }} as text), {{ references_reward_id }}))
{%- endmacro %}

{#- A number for a reason text: rounded, thousands separated. -#}
{% macro fmt_num(expr, decimals=0) -%}
  trim(to_char(round(cast({{ expr }} as numeric), {{ decimals }}),
       'FM999,999,999,990{% if decimals > 0 %}.{{ '0' * decimals }}{% endif %}'))
{%- endmacro %}

{#- A ratio as a percentage text, e.g. 1.125 -> '112.5%'. -#}
{% macro fmt_pct(expr) -%}
  ({{ fmt_num('100 * (' ~ expr ~ ')', 1) }} || '%')
{%- endmacro %}

{#- A number without decimals when it is whole, else with two. -#}
{% macro fmt_smart(expr) -%}
  (case when ({{ expr }}) = round({{ expr }})
        then {{ fmt_num(expr) }} else {{ fmt_num(expr, 2) }} end)
{%- endmacro %}
