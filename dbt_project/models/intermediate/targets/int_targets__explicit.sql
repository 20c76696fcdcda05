-- Targets as entered, one per (level, level_key, period_type, period_start, metric): period
-- starts snapped to the fiscal calendar, revenue converted to company currency, the latest
-- entry winning when the same target was entered twice.
with targets as (

    select
        *,
        row_number() over (
            partition by level, coalesce(level_key, ''), period_type, period_start, metric
            order by updated_at desc nulls last, target_id desc
        ) as entry_rank
    from {{ ref('stg_crm__sales_targets') }}
    where level in ('company', 'region', 'team', 'rep')
        and period_type in ('year', 'quarter', 'month')

)

select
    targets.target_id,
    targets.level,
    case when targets.level = 'company' then 'company' else targets.level_key end as level_key,
    targets.period_type,
    case targets.period_type
        when 'year' then months.year_start
        when 'quarter' then months.quarter_start
        else months.month_start
    end as period_start,
    targets.metric,
    case when targets.metric = 'revenue' then 2 else 0 end as scale,
    case
        when targets.metric = 'revenue'
            then round(targets.value * coalesce(fx.rate_to_company, 1), 2)
        else round(targets.value, 0)
    end as target_value
from targets
inner join {{ ref('int_calendar__months') }} as months
    on months.month_start = cast({{ dbt.date_trunc('month', 'targets.period_start') }} as date)
{{ join_fx('fx', 'targets.currency', 'targets.period_start') }}
where targets.entry_rank = 1
    and (targets.level = 'company' or targets.level_key is not null)
