-- Personal improvement plans: the weak KPI, its baseline and goal, the action, the owner
-- (the rep's manager at the time), the due date, the status and the measured effect.
select
    plan_id,
    rule_id,
    rep_id,
    manager_id,
    team_id,
    kpi,
    baseline,
    baseline_score,
    goal,
    goal_method,
    action_type,
    action_text_zh,
    action_text_en,
    period_type,
    created_period,
    created_date,
    due_date,
    status,
    sessions_logged,
    first_session_date,
    evaluation_period,
    evaluation_actual,
    effect,
    goal_met,
    as_of_date
from {{ ref('int_appraisal__plan_status') }}
