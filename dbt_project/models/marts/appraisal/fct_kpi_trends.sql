-- KPI trends per rep and team and month: month over month, year over year, the rolling
-- 3-month average and its direction (up, down or flat: a move of more than 5 % against the
-- rolling average a month earlier), and whether that direction is an improvement.
with trend_values as (
    select * from {{ ref('int_appraisal__trend_values') }}
),

rolling as (
    select
        trend_values.*,
        avg(value) over (
            partition by level, level_key, kpi order by period_start
            range between interval '2 months' preceding and current row
        ) as rolling_3m_avg
    from trend_values
),

compared as (
    -- offset frames pick the row exactly one month / one year earlier, gaps stay null
    select
        rolling.*,
        max(value) over (
            partition by level, level_key, kpi order by period_start
            range between interval '1 month' preceding and interval '1 month' preceding
        ) as prev_month_value,
        max(value) over (
            partition by level, level_key, kpi order by period_start
            range between interval '1 year' preceding and interval '1 year' preceding
        ) as prev_year_value,
        max(rolling_3m_avg) over (
            partition by level, level_key, kpi order by period_start
            range between interval '1 month' preceding and interval '1 month' preceding
        ) as prev_rolling_3m_avg
    from rolling
),

directed as (
    select
        compared.*,
        case
            when rolling_3m_avg is null or prev_rolling_3m_avg is null then null
            when rolling_3m_avg - prev_rolling_3m_avg > abs(prev_rolling_3m_avg) * 0.05 then 'up'
            when prev_rolling_3m_avg - rolling_3m_avg > abs(prev_rolling_3m_avg) * 0.05 then 'down'
            else 'flat'
        end as direction
    from compared
)

select
    md5(concat_ws('|', level, level_key, period_start, kpi)) as trend_id,
    level,
    level_key,
    period_start,
    kpi,
    round(value, 4) as value,
    round(prev_month_value, 4) as prev_month_value,
    round(value - prev_month_value, 4) as mom_change,
    round((value - prev_month_value) / nullif(abs(prev_month_value), 0), 4) as mom_pct,
    round(prev_year_value, 4) as prev_year_value,
    round(value - prev_year_value, 4) as yoy_change,
    round((value - prev_year_value) / nullif(abs(prev_year_value), 0), 4) as yoy_pct,
    round(rolling_3m_avg, 4) as rolling_3m_avg,
    round(prev_rolling_3m_avg, 4) as prev_rolling_3m_avg,
    direction,
    case direction
        when 'up' then higher_is_better
        when 'down' then not higher_is_better
        when 'flat' then false
    end as is_improving,
    higher_is_better
from directed
