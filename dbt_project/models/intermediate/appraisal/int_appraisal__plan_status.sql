-- Where each improvement plan stands on the as-of date:
--   open        not yet due, no coaching session logged for the rep since it was created;
--   in_progress not yet due, a session (training, coaching or strategy) logged;
--   done        due date passed with a session logged between creation and due date;
--   overdue     due date passed and no session was logged in time.
-- effect = the KPI in the period (same grain) holding the due date minus the baseline,
-- once that period has closed; goal_met compares it with the goal.
-- A table, not a view: it reads two views that dbt may rebuild at the same time, and a
-- rebuilt view drops its old version with CASCADE; two such drops reaching this view at
-- once deadlock (seen in a daily build). tests/test_dag_integrity.py keeps this true.
{{ config(materialized='table') }}
with plans as (
    select * from {{ ref('int_appraisal__plan_triggers') }}
),

as_of as (
    select as_of_date from {{ ref('int_calendar__as_of_date') }}
),

sessions as (
    select
        plans.plan_id,
        count(*) as sessions_logged,
        min(coaching.session_date) as first_session_date
    from plans
    cross join as_of
    inner join {{ ref('stg_crm__coaching_sessions') }} as coaching
        on coaching.rep_id = plans.rep_id
        and coaching.session_date >= plans.created_date
        and coaching.session_date <= least(plans.due_date, as_of.as_of_date)
    group by plans.plan_id
),

kpi_values as (
    select * from {{ ref('int_appraisal__kpi_values') }}
),

evaluated as (
    select
        plans.*,
        as_of.as_of_date,
        coalesce(sessions.sessions_logged, 0) as sessions_logged,
        sessions.first_session_date,
        cast(date_trunc(plans.period_type, plans.due_date) as date) as evaluation_period,
        {{ period_end('plans.period_type', "date_trunc(plans.period_type, plans.due_date)") }}
            < as_of.as_of_date as is_evaluated
    from plans
    cross join as_of
    left join sessions on sessions.plan_id = plans.plan_id
)

select
    evaluated.*,
    case
        when evaluated.as_of_date <= evaluated.due_date and evaluated.sessions_logged = 0
            then 'open'
        when evaluated.as_of_date <= evaluated.due_date then 'in_progress'
        when evaluated.sessions_logged > 0 then 'done'
        else 'overdue'
    end as status,
    case when evaluated.is_evaluated then kpi_values.actual end as evaluation_actual,
    case when evaluated.is_evaluated
        then kpi_values.actual - evaluated.baseline end as effect,
    case when evaluated.is_evaluated and kpi_values.actual is not null
        then kpi_values.actual >= evaluated.goal end as goal_met
from evaluated
left join kpi_values
    on kpi_values.rep_id = evaluated.rep_id
    and kpi_values.period_type = evaluated.period_type
    and kpi_values.period_start = evaluated.evaluation_period
    and kpi_values.kpi = evaluated.kpi
