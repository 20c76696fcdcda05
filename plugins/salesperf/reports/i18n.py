"""Texts and number formats for the two recipient languages (zh_CN, en).

The templates are shared by both languages; every word a reader sees comes from ``TEXT``
below, so a translation is reviewed in one place. Chinese wording follows the appraisal
vocabulary of the source document (目标设定, 绩效考核, 反馈与改进, 激励机制, 持续优化).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from salesperf import config

LOCALES = ("zh_CN", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh_CN": {
        "greeting": "{name}，您好：",
        "footer": "本邮件由销售绩效系统根据 CRM 数据自动生成，请勿直接回复。如对数据有疑问，请联系您的主管或数据团队。",
        "appraisal_subject": "{period} 月度绩效考核结果",
        "appraisal_title": "{period} 月度绩效考核",
        "appraisal_intro": "以下是您 {period} 的绩效考核结果，数据来自 CRM 系统。",
        "scorecard": "考核指标",
        "kpi": "指标",
        "actual": "实际",
        "target": "目标",
        "score": "得分",
        "weight": "权重",
        "not_counted_no_target": "不计入（无目标）",
        "not_counted_no_data": "不计入（无数据）",
        "not_counted_sample": "不计入（样本 {n}，至少 {min}）",
        "total_score": "综合得分",
        "grade": "等级",
        "rank_team": "团队排名",
        "rank_company": "公司排名",
        "renormalised": "注：部分指标本月无数据或样本量不足，权重已按其余指标重新分配。",
        "trend": "近 6 个月目标达成率",
        "month": "月份",
        "revenue": "销售额",
        "attainment": "达成率",
        "plan": "改进计划",
        "no_plan": "本月无新的改进计划，请继续保持。",
        "baseline": "基线",
        "goal": "目标值",
        "action": "行动",
        "due": "截止日期",
        "status": "状态",
        "rewards": "本月奖励",
        "no_rewards": "本月暂无奖励。",
        "amount": "金额",
        "reward": "奖励",
        "team_subject": "{period} 团队月度报告 · {team}",
        "team_title": "{period} 团队月度报告",
        "team_intro": "以下是您团队 {team} 在 {period} 的业绩概览（共 {n} 名销售）。",
        "leaderboard": "业绩排行",
        "rep": "销售",
        "deals_won": "赢单数",
        "funnel": "销售漏斗",
        "stage": "阶段",
        "entries": "进入数",
        "conversion": "转化率",
        "win_rate": "赢单率",
        "cohort_win_rate": "本月新建商机的赢单率（已结束的商机中）：{rate}",
        "reward_with_period": "{title}（{period}）",
        "xlsx_kpis": "指标",
        "xlsx_plans": "改进计划",
        "xlsx_rewards": "奖励",
        "period": "期间",
        "currency": "币种",
        "at_risk": "进度落后的销售",
        "no_at_risk": "本月没有进度落后的销售。",
        "pace": "进度比",
        "expected": "应达进度",
        "open_plans": "未结的改进计划",
        "team_rewards": "团队奖励",
        "attachment_note": "附件为团队明细数据（Excel）。",
        "reward_subject": "恭喜！您获得了奖励：{title}",
        "reward_title": "奖励通知",
        "reward_intro": "恭喜您！根据 {period} 的业绩，您获得以下奖励：",
        "reason": "获奖依据",
        "reward_clawback": "说明：此项为追回调整（相关订单已退款或取消）。",
        "reward_clawback_subject": "奖励调整通知：{title}",
        "reward_clawback_title": "奖励调整通知",
        "reward_clawback_intro": "您此前获得的一项奖励所依据的订单已退款或取消，奖励需做如下调整：",
        "pacing_subject": "目标进度提醒：{who} {period} 进度落后",
        "pacing_title": "目标进度提醒",
        "pacing_intro_rep": "截至 {date}，您 {period} 的目标进度落后于计划。",
        "pacing_intro_team": "截至 {date}，团队 {team} {period} 的目标进度落后于计划。",
        "severity_behind": "进度落后",
        "severity_far_behind": "严重落后",
        "projected": "预计完成",
        "pacing_advice": "建议：优先跟进高概率商机，并与主管沟通资源支持。",
        "weekly_subject": "每周反馈：{period} 当周工作回顾",
        "weekly_title": "每周工作反馈",
        "weekly_intro": "以下是您 {start} 至 {end} 的工作回顾。",
        "activities": "客户活动",
        "activity_type": "类型",
        "count": "次数",
        "pipeline_moves": "商机推进",
        "opportunity": "商机",
        "entered": "进入时间",
        "no_moves": "本周没有商机阶段变化。",
        "pacing": "本月目标进度",
        "quarterly_subject": "{period} 季度绩效体系评估",
        "quarterly_title": "{period} 季度评估（持续优化）",
        "quarterly_intro": "以下是 {period} 绩效考核体系的整体评估，供管理层参考。",
        "grade_distribution": "等级分布",
        "reps": "人数",
        "share": "占比",
        "review_metrics": "评估指标",
        "metric": "指标",
        "value": "数值",
        "recommendations": "改进建议",
        "at_target_share": "达成目标的销售占比",
        "total_revenue": "总销售额",
        "total_target": "总目标",
        "yes": "是",
        "no": "否",
    },
    "en": {
        "greeting": "Dear {name},",
        "footer": "This email was generated automatically from CRM data by the sales performance system. Please do not reply; for questions about the figures contact your manager or the data team.",
        "appraisal_subject": "Your performance appraisal for {period}",
        "appraisal_title": "Monthly appraisal, {period}",
        "appraisal_intro": "Here is your performance appraisal for {period}, based on CRM data.",
        "scorecard": "Scorecard",
        "kpi": "KPI",
        "actual": "Actual",
        "target": "Target",
        "score": "Score",
        "weight": "Weight",
        "not_counted_no_target": "not counted (no target)",
        "not_counted_no_data": "not counted (no data)",
        "not_counted_sample": "not counted (sample {n}, minimum {min})",
        "total_score": "Total score",
        "grade": "Grade",
        "rank_team": "Rank in team",
        "rank_company": "Rank in company",
        "renormalised": (
            "Note: some KPIs had no data or too small a sample this month; "
            "their weight was spread over the others."
        ),
        "trend": "Target attainment, last 6 months",
        "month": "Month",
        "revenue": "Revenue",
        "attainment": "Attainment",
        "plan": "Improvement plan",
        "no_plan": "No new improvement plan this month. Keep it up.",
        "baseline": "Baseline",
        "goal": "Goal",
        "action": "Action",
        "due": "Due",
        "status": "Status",
        "rewards": "Rewards this month",
        "no_rewards": "No rewards this month.",
        "amount": "Amount",
        "reward": "Reward",
        "team_subject": "Team report {period}: {team}",
        "team_title": "Monthly team report, {period}",
        "team_intro": "Here is how your team {team} did in {period} ({n} reps).",
        "leaderboard": "Leaderboard",
        "rep": "Rep",
        "deals_won": "Deals won",
        "funnel": "Sales funnel",
        "stage": "Stage",
        "entries": "Entries",
        "conversion": "Conversion",
        "win_rate": "Win rate",
        "cohort_win_rate": "Win rate of this month's new opportunities (those closed so far): {rate}",
        "reward_with_period": "{title} ({period})",
        "xlsx_kpis": "KPIs",
        "xlsx_plans": "Plans",
        "xlsx_rewards": "Rewards",
        "period": "Period",
        "currency": "Currency",
        "at_risk": "Reps behind pace",
        "no_at_risk": "No rep is behind pace this month.",
        "pace": "Pace",
        "expected": "Expected to date",
        "open_plans": "Open improvement plans",
        "team_rewards": "Team rewards",
        "attachment_note": "The team's figures are attached as an Excel workbook.",
        "reward_subject": "Congratulations! You earned: {title}",
        "reward_title": "Reward notification",
        "reward_intro": "Congratulations! For your results in {period} you earned:",
        "reason": "Earned by",
        "reward_clawback": "Note: this is a clawback (the rewarded deal was refunded or cancelled).",
        "reward_clawback_subject": "Reward adjustment: {title}",
        "reward_clawback_title": "Reward adjustment",
        "reward_clawback_intro": "A deal behind one of your earlier rewards was refunded or cancelled, so the reward is adjusted:",
        "pacing_subject": "Pacing alert: {who} is behind target for {period}",
        "pacing_title": "Pacing alert",
        "pacing_intro_rep": "As of {date} you are behind pace for your {period} target.",
        "pacing_intro_team": "As of {date} team {team} is behind pace for its {period} target.",
        "severity_behind": "behind pace",
        "severity_far_behind": "far behind pace",
        "projected": "Projected finish",
        "pacing_advice": "Suggestion: focus on the opportunities most likely to close and talk to your manager about support.",
        "weekly_subject": "Weekly feedback: week of {period}",
        "weekly_title": "Weekly feedback",
        "weekly_intro": "Here is your week from {start} to {end}.",
        "activities": "Customer activities",
        "activity_type": "Type",
        "count": "Count",
        "pipeline_moves": "Pipeline moves",
        "opportunity": "Opportunity",
        "entered": "Entered",
        "no_moves": "No opportunity changed stage this week.",
        "pacing": "Month-to-date pacing",
        "quarterly_subject": "Quarterly review of the appraisal system, {period}",
        "quarterly_title": "Quarterly review, {period}",
        "quarterly_intro": "An overall review of the appraisal system for {period}, for management.",
        "grade_distribution": "Grade distribution",
        "reps": "Reps",
        "share": "Share",
        "review_metrics": "Review metrics",
        "metric": "Metric",
        "value": "Value",
        "recommendations": "Recommendations",
        "at_target_share": "Share of reps at target",
        "total_revenue": "Total revenue",
        "total_target": "Total target",
        "yes": "yes",
        "no": "no",
    },
}

KPI_LABELS = {
    "zh_CN": {
        "revenue": "销售额",
        "attainment": "目标达成率",
        "new_customers": "新客户数",
        "deals_won": "赢单数",
        "win_rate_count": "赢单率（按数量）",
        "win_rate_amount": "赢单率（按金额）",
        "avg_deal_size": "平均单笔金额",
        "avg_sales_cycle_days": "平均销售周期（天）",
        "activities_total": "客户活动数",
        "csat_avg": "客户满意度",
        "nps": "净推荐值",
        "pipeline_created": "新增商机金额",
    },
    "en": {
        "revenue": "Revenue",
        "attainment": "Target attainment",
        "new_customers": "New customers",
        "deals_won": "Deals won",
        "win_rate_count": "Win rate (count)",
        "win_rate_amount": "Win rate (amount)",
        "avg_deal_size": "Average deal size",
        "avg_sales_cycle_days": "Average sales cycle (days)",
        "activities_total": "Activities",
        "csat_avg": "Customer satisfaction",
        "nps": "NPS",
        "pipeline_created": "Pipeline created",
    },
}

ACTIVITY_LABELS = {
    "zh_CN": {"call": "电话", "meeting": "会议", "visit": "拜访", "email": "邮件", "demo": "演示"},
    "en": {
        "call": "Calls",
        "meeting": "Meetings",
        "visit": "Visits",
        "email": "Emails",
        "demo": "Demos",
    },
}

# KPIs whose values are fractions of 1, shown as percentages
RATIO_KPIS = frozenset({"attainment", "win_rate_count", "win_rate_amount"})


# The canonical funnel stages of the marts (seed stage_order, column funnel_stage).
STAGE_LABELS = {
    "zh_CN": {
        "prospecting": "初步接洽",
        "qualification": "需求确认",
        "proposal": "方案报价",
        "negotiation": "商务谈判",
        "closed_won": "赢单",
        "closed_lost": "输单",
    },
    "en": {
        "prospecting": "Prospecting",
        "qualification": "Qualification",
        "proposal": "Proposal",
        "negotiation": "Negotiation",
        "closed_won": "Closed won",
        "closed_lost": "Closed lost",
    },
}

STATUS_LABELS = {
    "zh_CN": {
        "open": "待开始",
        "in_progress": "进行中",
        "done": "已完成",
        "completed": "已完成",
        "overdue": "已逾期",
        "cancelled": "已取消",
    },
    "en": {
        "open": "open",
        "in_progress": "in progress",
        "done": "done",
        "completed": "completed",
        "overdue": "overdue",
        "cancelled": "cancelled",
    },
}


REVIEW_LABELS = {
    "reps_scored": ("参与考核人数", "Reps appraised"),
    "avg_total_score": ("平均综合得分", "Average total score"),
    "top_grade_share": ("人数最多的等级占比", "Share in the most common grade"),
    "share_at_target": ("达成目标的销售占比", "Share of reps at target"),
    "share_far_above_target": ("大幅超额完成占比", "Share far above target"),
    "target_verdict": ("目标难度评估", "Target difficulty verdict"),
    "kpis_not_separating": ("区分度不足的指标", "KPIs that no longer separate performance"),
    "plan_completion_rate": ("改进计划完成率", "Improvement plan completion"),
    "plan_goal_met_rate": ("改进目标达成率", "Improvement goals met"),
    "plan_avg_relative_effect": ("改进平均效果", "Average improvement effect"),
    "rewards_given": ("发放奖励数", "Rewards given"),
    "clawbacks": ("追回次数", "Clawbacks"),
    "reward_cost": ("奖励成本", "Reward cost"),
    "reward_cost_share": ("奖励成本占销售额比例", "Reward cost as share of revenue"),
    "feedback_responses": ("反馈份数", "Feedback responses"),
    "feedback_avg": ("反馈平均分", "Average feedback score"),
    "feedback_fairness_avg": ("公平性评分", "Fairness score"),
    "feedback_clarity_avg": ("清晰度评分", "Clarity score"),
    "feedback_usefulness_avg": ("有用性评分", "Usefulness score"),
}


VERDICTS = {
    "balanced": ("难度适中", "balanced"),
    "too_easy": ("目标偏易", "too easy"),
    "too_hard": ("目标偏难", "too hard"),
    "no_targets": ("无目标数据", "no targets"),
}


def norm_locale(value: str | None, default: str = "zh_CN") -> str:
    v = (value or "").replace("-", "_").strip()
    if v.lower().startswith("zh"):
        return "zh_CN"
    if v.lower().startswith("en"):
        return "en"
    return default


class Lang:
    """What a template needs for one locale: ``t('key', **fmt)``, number and date formats."""

    def __init__(self, locale: str, currency: str = "CNY"):
        self.locale = norm_locale(locale)
        self.currency = currency
        self._text = TEXT[self.locale]

    def t(self, key: str, **fmt) -> str:
        text = self._text.get(key) or TEXT["en"].get(key) or key
        return text.format(**fmt) if fmt else text

    def kpi(self, name: str) -> str:
        """The KPI's label in the scorecard seed, else the built-in one, else its code."""
        zh, en = config.kpi_labels().get(str(name), ("", ""))
        return (zh if self.locale == "zh_CN" else en) or KPI_LABELS[self.locale].get(
            name, str(name).replace("_", " ")
        )

    def review_label(self, col: str) -> str:
        zh, en = REVIEW_LABELS.get(col, (col, col.replace("_", " ")))
        return zh if self.locale == "zh_CN" else en

    def verdict(self, value: str) -> str:
        words = VERDICTS.get(value)
        return value if words is None else (words[0] if self.locale == "zh_CN" else words[1])

    def activity(self, name: str) -> str:
        return ACTIVITY_LABELS[self.locale].get(name, str(name))

    def stage(self, name: str | None) -> str:
        """A funnel stage in words; a stage outside the canonical six keeps its code."""
        return STAGE_LABELS[self.locale].get(str(name), str(name or "").replace("_", " "))

    def status(self, name: str | None) -> str:
        return STATUS_LABELS[self.locale].get(str(name), str(name or ""))

    def num(self, v, digits: int = 0) -> str:
        if v is None:
            return "–"
        return f"{float(v):,.{digits}f}"

    def money(self, v) -> str:
        if v is None:
            return "–"
        sym = "¥" if self.currency == "CNY" and self.locale == "zh_CN" else f"{self.currency} "
        sign = "-" if float(v) < 0 else ""
        return f"{sign}{sym}{abs(float(v)):,.0f}"

    def pct(self, v, digits: int = 0) -> str:
        if v is None:
            return "–"
        return f"{float(v) * 100:.{digits}f}%"

    def month(self, d) -> str:
        d = _date(d)
        return f"{d.year}年{d.month}月" if self.locale == "zh_CN" else d.strftime("%B %Y")

    def date(self, d) -> str:
        if d is None:
            return "–"
        d = _date(d)
        return f"{d.year}年{d.month}月{d.day}日" if self.locale == "zh_CN" else d.isoformat()

    def quarter(self, d) -> str:
        d = _date(d)
        q = (d.month - 1) // 3 + 1
        return f"{d.year}年第{q}季度" if self.locale == "zh_CN" else f"Q{q} {d.year}"

    def period(self, period_type: str | None, d) -> str:
        """A month, quarter or year by its start, as readers write it."""
        if period_type == "quarter":
            return self.quarter(d)
        if period_type == "year":
            year = _date(d).year
            return f"{year}年" if self.locale == "zh_CN" else str(year)
        return self.month(d)

    def kpi_value(self, kpi: str, v) -> str:
        if v is None:
            return "–"
        if kpi in ("revenue", "avg_deal_size", "pipeline_created"):
            return self.money(v)
        if kpi in RATIO_KPIS:
            return self.pct(v, 1)
        if isinstance(v, (float, Decimal)) and float(v) != int(float(v)):
            return self.num(v, 1)
        return self.num(v)


def _date(d) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])
