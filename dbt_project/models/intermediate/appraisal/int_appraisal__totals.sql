-- Total score per rep and period: the weighted mean of the KPI scores that count, with the
-- weights renormalised over them when a KPI had no data or too small a sample; its grade
-- from grade_bands; and a note that says which KPIs were left out and why.
with kpi_scores as (
    select * from {{ ref('int_appraisal__kpi_scores') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

-- the notes name KPIs as readers know them (the scorecard's labels), the lists stay codes
labels as (
    select kpi as label_kpi, label_en, label_zh from {{ ref('kpi_scorecard') }}
),

totals as (
    select
        rep_id,
        period_type,
        period_start,
        max(team_id) as team_id,
        max(region) as region,
        max(manager_id) as manager_id,
        sum(score * weight) filter (where counts_in_total)
        / nullif(sum(weight) filter (where counts_in_total), 0) as total_score,
        sum(weight) filter (where counts_in_total) as weight_covered,
        count(*) filter (where counts_in_total) as kpis_scored,
        count(*) as kpis_total,
        bool_or(not counts_in_total) as weights_renormalised,
        bool_or(below_min_sample and has_data) as below_min_sample,
        string_agg(kpi, ', ' order by kpi) filter (where not has_data) as kpis_without_data,
        string_agg(kpi, ', ' order by kpi) filter (
            where missing_reason = 'no_target'
        ) as kpis_without_target,
        string_agg(kpi, ', ' order by kpi) filter (
            where missing_reason = 'no_data'
        ) as kpis_without_actual,
        string_agg(kpi, ', ' order by kpi) filter (
            where has_data and below_min_sample
        ) as kpis_below_min_sample,
        {%- for lang, sep in [('en', ', '), ('zh', '、')] %}
        {%- for name, cond in [
            ('without_target', "missing_reason = 'no_target'"),
            ('without_actual', "missing_reason = 'no_data'"),
            ('below_min_sample', 'has_data and below_min_sample'),
        ] %}
        string_agg(coalesce(label_{{ lang }}, kpi), '{{ sep }}' order by kpi)
            filter (where {{ cond }}) as named_{{ name }}_{{ lang }}{{ ',' if not loop.last }}
        {%- endfor %}{{ ',' if not loop.last }}
        {%- endfor %}
    from kpi_scores
    left join labels on labels.label_kpi = kpi_scores.kpi
    group by rep_id, period_type, period_start
),

graded as (
    select
        totals.*,
        (
            select grade_bands.grade
            from grade_bands
            where grade_bands.min_score <= round(totals.total_score, 2)
            order by grade_bands.min_score desc
            limit 1
        ) as grade
    from totals
)

select
    rep_id,
    period_type,
    period_start,
    team_id,
    region,
    manager_id,
    round(total_score, 2) as total_score,
    grade,
    kpis_scored,
    kpis_total,
    coalesce(weights_renormalised, false) as weights_renormalised,
    coalesce(below_min_sample, false) as below_min_sample,
    kpis_without_data,
    kpis_without_target,
    kpis_below_min_sample,
    nullif(concat_ws(' ',
        case when kpis_scored = 0 then 'No KPI had data; no score.' end,
        case when kpis_without_target is not null
            then 'No target for ' || named_without_target_en || '.' end,
        case when kpis_without_actual is not null
            then 'No data for ' || named_without_actual_en || '.' end,
        case when kpis_below_min_sample is not null
            then 'Sample below the minimum for ' || named_below_min_sample_en || '.' end,
        case when weights_renormalised and kpis_scored > 0
            then 'Weights renormalised over the ' || kpis_scored || ' KPIs with data ('
                || round(100 * weight_covered) || '% of the scorecard).' end
    ), '') as note,
    nullif(concat_ws('',
        case when kpis_scored = 0 then '所有指标均无数据，未评分。' end,
        case when kpis_without_target is not null
            then '以下指标没有目标：' || named_without_target_zh || '。' end,
        case when kpis_without_actual is not null
            then '以下指标无数据：' || named_without_actual_zh || '。' end,
        case when kpis_below_min_sample is not null
            then '以下指标样本量不足：' || named_below_min_sample_zh || '。' end,
        case when weights_renormalised and kpis_scored > 0
            then '权重已按有数据的 ' || kpis_scored || ' 项指标（占评分表 '
                || round(100 * weight_covered) || '%）重新归一。' end
    ), '') as note_zh
from graded
