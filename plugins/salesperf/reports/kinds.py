"""One builder per report kind: marts -> per-recipient context -> rendered EmailMessage.

Every builder queries its marts once for the whole run, groups the rows by recipient, and
gives each recipient's template only that recipient's rows (a rep: their own; a manager:
the reps they managed in that period, as-was). Recipients whose message is already in the
outbox (same idempotency key) are skipped before rendering, so reruns cost almost nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage

import psycopg

from salesperf import config
from salesperf.reports import KINDS, charts, outbox
from salesperf.reports import data as d
from salesperf.reports.i18n import RATIO_KPIS, Lang, norm_locale
from salesperf.reports.render import XLSX_TYPE, render, to_message
from salesperf.reports.xlsx import workbook

__all__ = ["BUILDERS", "KINDS", "Outgoing", "build"]
MAX_PLANS_REP = 3  # newest plans per rep in an email; the XLSX has all of them
CLOSED_PLAN = ("done", "completed", "closed", "cancelled", "achieved")


@dataclass
class Outgoing:
    kind: str
    recipient_id: str
    recipient_email: str
    period: str
    subject: str
    # the built message; once prepared, None and `prepared` holds its bytes instead
    message: EmailMessage | None
    key_extra: str | None = None
    prepared: outbox.Prepared | None = None

    @property
    def key(self) -> str:
        return outbox.idempotency_key(self.kind, self.recipient_id, self.period, self.key_extra)

    def ready(self) -> Outgoing:
        """This message stamped and serialised (:func:`outbox.prepare`), without its object
        tree: what a render worker hands back, cheap to pickle."""
        if self.prepared is not None:
            return self
        return replace(self, message=None, prepared=outbox.prepare(self.message, self.kind))


Skip = Callable[[str], bool]


def _no_skip(_key: str) -> bool:
    return False


def _lang(person: dict) -> Lang:
    return Lang(
        norm_locale(person.get("locale"), config.company_settings()["default_locale"]),
        config.company_currency(),
    )


def _addr(person: dict, prefix: str = ""):
    return outbox.address(
        person.get(f"{prefix}name") or person.get("rep_name"), person[f"{prefix}email"]
    )


def _people(conn) -> dict[str, dict]:
    rows = d.fetch(conn, "select * from marts.dim_reps")
    return {str(r["rep_id"]): r for r in rows}


def _deliverable(p: dict | None) -> bool:
    return bool(p and p.get("email") and "@" in str(p["email"]))


def _manager_cc(people: dict, rep: dict) -> list:
    mgr = people.get(str(rep.get("manager_id")))
    if _deliverable(mgr) and str(mgr["rep_id"]) != str(rep["rep_id"]):
        return [outbox.address(mgr["rep_name"], mgr["email"])]
    return []


def _fmt_plans(plans: list[dict], L: Lang) -> list[dict]:
    out = []
    for p in plans:
        out.append(
            {
                "kpi": L.kpi(p.get("kpi")),
                "baseline": L.kpi_value(p.get("kpi"), p.get("baseline")),
                "goal": L.kpi_value(p.get("kpi"), p.get("goal")),
                "action": p.get("action_text_zh")
                if L.locale == "zh_CN"
                else p.get("action_text_en"),
                "due": L.date(p.get("due_date")),
                "status": L.status(p.get("status")),
                "rep_id": str(p.get("rep_id")),
            }
        )
    return out


def _fmt_rewards(rewards: list[dict], L: Lang) -> list[dict]:
    return [_fmt_reward(r, L) for r in rewards]


def _fmt_reward(r: dict, L: Lang) -> dict:
    title = r.get("title_zh") if L.locale == "zh_CN" else r.get("title_en")
    period = L.period(r.get("period_type"), r["period_start"]) if r.get("period_start") else ""
    return {
        "title": title,
        "period": period,
        # in lists beside a month's figures: which period earned it
        "titled": L.t("reward_with_period", title=title, period=period) if period else title,
        "kind": r.get("kind"),
        "amount": L.money(r["amount"]) if r.get("amount") is not None else "",
        "reason": (r.get("reason_zh") if L.locale == "zh_CN" else None) or r.get("reason") or "",
        "rep_id": str(r.get("rep_id")),
        "is_clawback": bool(r.get("is_clawback"))
        or r.get("kind") == "clawback"
        or float(r.get("amount") or 0) < 0,
    }


def _ending_in_month(col_type: str = "period_type", col_start: str = "period_start") -> str:
    # rewards whose period (month, quarter or year) ends in the report month
    return (
        f"({col_start} + case {col_type} when 'month' then interval '1 month' "
        f"when 'quarter' then interval '3 months' else interval '1 year' end)::date "
        "= (%(m)s::date + interval '1 month')::date"
    )


def _plans_query() -> str:
    # plans known at the end of the report month: created then, or still open (newest first)
    return (
        "select * from marts.fct_improvement_plans where created_period <= %(m)s and ("
        "date_trunc('month', created_period) = %(m)s "
        "or coalesce(lower(status), 'open') not in ('done', 'completed', 'closed', "
        "'cancelled', 'achieved')) order by due_date desc nulls last, plan_id"
    )


# ------------------------------------------------------------------ monthly appraisal


def monthly_appraisal(conn, period: str, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    kind = "monthly_appraisal"
    d.require(
        conn,
        kind,
        [
            "dim_reps",
            "fct_rep_kpis_monthly",
            "fct_appraisal_scores",
            "fct_appraisal_summary",
            "fct_improvement_plans",
            "fct_rewards",
        ],
    )
    m = d.month_start(period)
    label = d.month_label(m)
    args = {"m": m, "ml": label, "m0": d.add_months(m, -5)}
    people = _people(conn)
    summary = {
        str(r["rep_id"]): r
        for r in d.fetch(
            conn,
            "select * from marts.fct_appraisal_summary where period_type = 'month' "
            "and period_start = %(m)s",
            args,
        )
    }
    scores = d.group(
        d.fetch(
            conn,
            "select * from marts.fct_appraisal_scores where period_type = 'month' "
            "and period_start = %(m)s order by rep_id, weight desc, kpi",
            args,
        ),
        "rep_id",
    )
    kpis = d.group(
        d.fetch(
            conn,
            "select rep_id, period_start, revenue, revenue_target, attainment "
            "from marts.fct_rep_kpis_monthly where period_start between %(m0)s and %(m)s "
            "order by rep_id, period_start",
            args,
        ),
        "rep_id",
    )
    plans = d.group(d.fetch(conn, _plans_query(), args), "rep_id")
    rewards = d.group(
        d.fetch(
            conn,
            f"select * from marts.fct_rewards where {_ending_in_month()} "  # noqa: S608
            "order by rep_id, reward_id",
            args,
        ),
        "rep_id",
    )
    months = [d.add_months(m, i) for i in range(-5, 1)]
    trend_chart = charts.TrendChart([d.month_label(x)[2:] for x in months])
    for rep_id in sorted(summary):
        rep = people.get(rep_id)
        if not _deliverable(rep):
            continue
        out_key = outbox.idempotency_key(kind, rep_id, label)
        if skip(out_key):
            continue
        L = _lang(rep)
        s = summary[rep_id]
        by_month = {r["period_start"]: r for r in kpis.get(rep_id, [])}
        trend = [by_month.get(x) or {} for x in months]
        ctx = {
            "subject": L.t("appraisal_subject", period=L.month(m)),
            "title": L.t("appraisal_title", period=L.month(m)),
            "rep": {"name": rep["rep_name"]},
            "period_label": L.month(m),
            "summary": {
                "total": L.num(s.get("total_score"), 1),
                "grade": s.get("grade") or "–",
                "grade_label": s.get("grade_label_zh" if L.locale == "zh_CN" else "grade_label_en")
                or "",
                "rank_team": _rank(s.get("rank_in_team"), s.get("reps_in_team")),
                "rank_company": _rank(s.get("rank_in_company"), s.get("reps_in_company")),
                "renormalised": bool(s.get("weights_renormalised")),
                "note": s.get("note_zh" if L.locale == "zh_CN" else "note") or "",
            },
            "scores": [
                {
                    "kpi": sc.get("kpi_label_zh" if L.locale == "zh_CN" else "kpi_label_en")
                    or L.kpi(sc["kpi"]),
                    "actual": L.kpi_value(sc["kpi"], sc.get("actual")),
                    "target": L.kpi_value(sc["kpi"], sc.get("target")),
                    "score": L.num(sc.get("score"), 1),
                    "weight": _weight(sc, L),
                }
                for sc in scores.get(rep_id, [])
            ],
            "trend": [
                {
                    "month": L.month(x),
                    "revenue": L.money(t.get("revenue")),
                    "target": L.money(t.get("revenue_target")),
                    "attainment": L.pct(t.get("attainment")),
                }
                for x, t in zip(months, trend, strict=True)
            ],
            "plans": _fmt_plans(plans.get(rep_id, [])[:MAX_PLANS_REP], L),
            "rewards": _fmt_rewards(rewards.get(rep_id, []), L),
        }
        png = trend_chart.render([t.get("attainment") for t in trend])
        r = render("monthly_appraisal", L, ctx, {"trend": png})
        msg = to_message(r, to=_addr(rep), lang=L)
        yield Outgoing(kind, rep_id, rep["email"], label, r.subject, msg)


def _weight(sc: dict, L: Lang) -> str:
    """A KPI's weight in the total, or why it does not count (its score alone beside 0 %
    read as points that counted)."""
    if sc.get("counts_in_total") is not False:
        return L.pct(sc.get("effective_weight", sc.get("weight")))
    if sc.get("missing_reason") == "no_target":
        return L.t("not_counted_no_target")
    if sc.get("has_data") and sc.get("below_min_sample"):
        return L.t(
            "not_counted_sample", n=L.num(sc.get("sample_size")), min=L.num(sc.get("min_sample"))
        )
    return L.t("not_counted_no_data")


def _rank(rank, of) -> str:
    if rank is None:
        return "–"
    return f"{rank} / {of}" if of else str(rank)


# ------------------------------------------------------------------ team report


TEAM_COLUMNS = [
    "rep_id",
    "rep_name",
    "revenue",
    "revenue_target",
    "attainment",
    "deals_won",
    "deals_lost",
    "new_customers",
    "win_rate_count",
    "activities_total",
    "csat_avg",
    "pipeline_created",
    "total_score",
    "grade",
]


def team_report(conn, period: str, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    kind = "team_report"
    d.require(
        conn,
        kind,
        [
            "dim_reps",
            "fct_rep_kpis_monthly",
            "fct_appraisal_summary",
            "fct_funnel_monthly",
            "fct_target_pacing_daily",
            "fct_improvement_plans",
            "fct_rewards",
        ],
    )
    m = d.month_start(period)
    label = d.month_label(m)
    args = {"m": m, "ml": label}
    people = _people(conn)
    kpis = d.fetch(
        conn,
        "select * from marts.fct_rep_kpis_monthly where period_start = %(m)s "
        "and manager_id is not null order by rep_id",
        args,
    )
    by_manager = d.group(kpis, "manager_id")
    summary = {
        str(r["rep_id"]): r
        for r in d.fetch(
            conn,
            "select * from marts.fct_appraisal_summary where period_type = 'month' "
            "and period_start = %(m)s",
            args,
        )
    }
    funnel = d.group(
        d.fetch(
            conn,
            "select * from marts.fct_funnel_monthly where level = 'team' "
            "and month_start = %(m)s order by level_key, stage_order",
            args,
        ),
        "level_key",
    )
    at_risk = d.group(
        d.fetch(
            conn,
            "select p.* from marts.fct_target_pacing_daily p where p.level = 'rep' "
            "and p.period_type = 'month' and p.period_start = %(m)s and p.as_of_date = "
            "(select max(as_of_date) from marts.fct_target_pacing_daily where level = 'rep' "
            " and period_type = 'month' and period_start = %(m)s) and p.is_at_risk "
            "order by p.pace_ratio",
            args,
        ),
        "level_key",
    )
    plans = d.group(d.fetch(conn, _plans_query(), args), "rep_id")
    rewards = d.group(
        d.fetch(
            conn,
            f"select * from marts.fct_rewards where {_ending_in_month()} "  # noqa: S608
            "order by rep_id, reward_id",
            args,
        ),
        "rep_id",
    )
    for manager_id in sorted(by_manager):
        mgr = people.get(manager_id)
        if not _deliverable(mgr):
            continue
        out_key = outbox.idempotency_key(kind, manager_id, label)
        if skip(out_key):
            continue
        L = _lang(mgr)
        members = by_manager[manager_id]
        ids = [str(k["rep_id"]) for k in members]
        names = {i: (people.get(i) or {}).get("rep_name") or i for i in ids}
        rows = []
        for k in members:
            s = summary.get(str(k["rep_id"]), {})
            rows.append(
                {
                    **k,
                    "rep_name": names[str(k["rep_id"])],
                    "total_score": s.get("total_score"),
                    "grade": s.get("grade"),
                }
            )
        rows.sort(
            key=lambda r: (
                -(float(r["total_score"]) if r["total_score"] is not None else -1e9),
                -float(r["revenue"] or 0),
            )
        )
        team_ids = sorted({str(k["team_id"]) for k in members if k.get("team_id") is not None})
        team_name = ", ".join(
            sorted({(people.get(i) or {}).get("team_name") or "" for i in ids} - {""})
        ) or (mgr.get("team_name") or "")
        fun = [f for t in team_ids for f in funnel.get(t, [])]
        risk = [r for i in ids for r in at_risk.get(i, [])]
        ctx = {
            "subject": L.t("team_subject", period=L.month(m), team=team_name),
            "title": L.t("team_title", period=L.month(m)),
            "rep": {"name": mgr["rep_name"]},
            "intro": L.t("team_intro", period=L.month(m), team=team_name, n=len(ids)),
            "leaderboard": [
                {
                    "rank": i + 1,
                    "name": r["rep_name"],
                    "revenue": L.money(r["revenue"]),
                    "attainment": L.pct(r.get("attainment")),
                    "deals_won": L.num(r.get("deals_won")),
                    "score": L.num(r["total_score"], 1),
                    "grade": r["grade"] or "–",
                }
                for i, r in enumerate(rows)
            ],
            "funnel": [
                {
                    "stage": L.stage(f["funnel_stage"]),
                    "entries": L.num(f.get("entries")),
                    "conversion": L.pct(f.get("conversion_rate"), 1),
                }
                for f in fun
            ],
            # the cohort's (the month's new opportunities), the same on every stage row
            "cohort_win_rate": next(
                (L.pct(f["win_rate_count"], 1) for f in fun if f.get("win_rate_count") is not None),
                None,
            ),
            "at_risk": [
                {
                    "name": names.get(str(r["level_key"]), r["level_key"]),
                    "actual": L.money(r["actual"]),
                    "expected": L.money(r["expected_to_date"]),
                    "target": L.money(r["target"]),
                    "pace": L.pct(r.get("pace_ratio")),
                }
                for r in risk
            ],
            "plans": [
                {**p, "name": names[p["rep_id"]]}
                for p in _fmt_plans(
                    [
                        p
                        for i in ids
                        for p in plans.get(i, [])[:MAX_PLANS_REP]
                        if str(p.get("status") or "open").lower() not in CLOSED_PLAN
                    ],
                    L,
                )
            ],
            "rewards": [
                {**r, "name": names[r["rep_id"]]}
                for r in _fmt_rewards([r for i in ids for r in rewards.get(i, [])], L)
            ],
        }
        images = {
            "leaderboard": charts.leaderboard(
                [r["rep_name"] for r in rows], [r["total_score"] for r in rows], axis=L.t("score")
            )
        }
        if fun:
            en = Lang("en")
            images["funnel"] = charts.funnel(
                [L.stage(f["funnel_stage"]) for f in fun],
                [f.get("entries") for f in fun],
                # in English where the chart has no font for the reader's words
                fallbacks=[en.stage(f["funnel_stage"]) for f in fun],
            )
        r = render("team_report", L, ctx, images)
        r.attachments.append(
            (f"team_{label}.xlsx", _team_xlsx(rows, plans, rewards, ids, names, L), XLSX_TYPE)
        )
        msg = to_message(r, to=_addr(mgr), lang=L)
        yield Outgoing(kind, manager_id, mgr["email"], label, r.subject, msg)


def _team_xlsx(rows, plans, rewards, ids, names, L: Lang) -> bytes:
    """The team's figures for a manager: sheets, headers and codes in the manager's
    language, ratios as percentages."""
    heads = {"rep_id": "ID", "rep_name": L.t("rep"), "revenue_target": L.t("target")}
    heads |= {"total_score": L.t("total_score"), "grade": L.t("grade")}
    # a KPI added to the scorecard (docs/rules.md) counts in the score: shown beside the others
    added = [k for k in config.kpi_labels() if k not in TEAM_COLUMNS and rows and k in rows[0]]
    at = TEAM_COLUMNS.index("total_score")
    columns = TEAM_COLUMNS[:at] + added + TEAM_COLUMNS[at:]
    kpi_sheet = (
        L.t("xlsx_kpis"),
        [heads.get(c) or L.kpi(c) for c in columns],
        [[r.get(c) for c in columns] for r in rows],
        ["0.0%" if c in RATIO_KPIS else None for c in columns],
    )
    plan_rows = [  # words from the formatted plan, numbers and dates as they are
        [
            names[i],
            f["kpi"],
            f["status"],
            p.get("baseline"),
            p.get("goal"),
            f["action"],
            p.get("due_date"),
        ]
        for i in ids
        for p, f in zip(plans.get(i, []), _fmt_plans(plans.get(i, []), L), strict=True)
    ]
    reward_rows = [  # words from the formatted reward, the amount as it is
        [names[i], w["title"], w["period"], r.get("amount"), r.get("currency"), w["reason"]]
        for i in ids
        for r, w in zip(rewards.get(i, []), _fmt_rewards(rewards.get(i, []), L), strict=True)
    ]
    return workbook(
        [
            kpi_sheet,
            (
                L.t("xlsx_plans"),
                [L.t(k) for k in ("rep", "kpi", "status", "baseline", "goal", "action", "due")],
                plan_rows,
            ),
            (
                L.t("xlsx_rewards"),
                [L.t(k) for k in ("rep", "reward", "period", "amount", "currency", "reason")],
                reward_rows,
            ),
        ]
    )


# ------------------------------------------------------------------ reward notifications


def reward(conn, period: str | None = None, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    """Rewards of ``period`` (YYYY-MM of the reward's period start), or of the last 3 months."""
    kind = "reward"
    d.require(conn, kind, ["dim_reps", "fct_rewards"])
    people = _people(conn)
    if period:
        where, args = (
            "to_char(period_start, 'YYYY-MM') = %(p)s",
            {"p": d.month_label(d.month_start(period))},
        )
    else:
        where, args = (
            (
                "period_start >= (select max(period_start) from marts.fct_rewards) "
                "- interval '3 months'"
            ),
            {},
        )
    rows = d.fetch(
        conn,
        f"select * from marts.fct_rewards where {where} "  # noqa: S608
        "order by period_start, rep_id, reward_id",
        args,
    )
    for w in rows:
        rep = people.get(str(w["rep_id"]))
        if not _deliverable(rep):
            continue
        label = d.month_label(w["period_start"])
        out_key = outbox.idempotency_key(kind, rep["rep_id"], label, w["reward_id"])
        if skip(out_key):
            continue
        L = _lang(rep)
        item = _fmt_reward(w, L)
        pl = item["period"]  # period_start is set: the outbox label above needs it
        claw = "clawback_" if item["is_clawback"] else ""
        ctx = {
            "subject": L.t(f"reward_{claw}subject", title=item["title"] or ""),
            "title": L.t(f"reward_{claw}title"),
            "rep": {"name": rep["rep_name"]},
            "intro": L.t(f"reward_{claw}intro", period=pl),
            "reward": item,
        }
        r = render("reward", L, ctx)
        msg = to_message(r, to=_addr(rep), cc=_manager_cc(people, rep), lang=L)
        yield Outgoing(
            kind, str(rep["rep_id"]), rep["email"], label, r.subject, msg, str(w["reward_id"])
        )


# ------------------------------------------------------------------ pacing alerts


def severity(pace_ratio, threshold: float, far: float) -> str | None:
    if pace_ratio is None or float(pace_ratio) >= threshold:
        return None
    return "far_behind" if float(pace_ratio) < far else "behind"


def pacing(conn, period: str | None = None, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    """Month pacing at the latest as-of date (of ``period`` when given), reps and teams."""
    kind = "pacing"
    d.require(conn, kind, ["dim_reps", "dim_teams", "fct_target_pacing_daily"])
    settings = config.company_settings()
    threshold = float(settings.get("pacing_at_risk_threshold", 0.85))
    far = float(settings.get("pacing_far_behind_threshold", 0.6))
    people = _people(conn)
    teams = {str(t["team_id"]): t for t in d.fetch(conn, "select * from marts.dim_teams")}
    args = {"m": d.month_start(period) if period else None}
    rows = d.fetch(
        conn,
        """
        with latest as (
            select period_start, max(as_of_date) as as_of_date
            from marts.fct_target_pacing_daily
            where period_type = 'month' and (%(m)s::date is null or period_start = %(m)s)
            group by period_start order by period_start desc limit 1
        )
        select p.* from marts.fct_target_pacing_daily p
        join latest using (period_start, as_of_date)
        where p.period_type = 'month' and p.level in ('rep', 'team') and p.is_at_risk
        order by p.level, p.level_key""",
        args,
    )
    for p in rows:
        sev = severity(p.get("pace_ratio"), threshold, far) or "behind"
        label = d.month_label(p["period_start"])
        if p["level"] == "rep":
            person = people.get(str(p["level_key"]))
            team = None
        else:
            team = teams.get(str(p["level_key"])) or {}
            person = people.get(str(team.get("manager_id")))
        if not _deliverable(person):
            continue
        extra = f"{p['level']}:{p['level_key']}:{sev}"
        if skip(outbox.idempotency_key(kind, person["rep_id"], label, extra)):
            continue
        L = _lang(person)
        who = person["rep_name"] if team is None else (team.get("team_name") or p["level_key"])
        ctx = {
            "subject": L.t("pacing_subject", who=who, period=L.month(p["period_start"])),
            "title": L.t("pacing_title"),
            "rep": {"name": person["rep_name"]},
            "intro": (
                L.t(
                    "pacing_intro_rep",
                    date=L.date(p["as_of_date"]),
                    period=L.month(p["period_start"]),
                )
                if team is None
                else L.t(
                    "pacing_intro_team",
                    date=L.date(p["as_of_date"]),
                    team=who,
                    period=L.month(p["period_start"]),
                )
            ),
            "severity": L.t(f"severity_{sev}"),
            "far": sev == "far_behind",
            "p": {
                "target": L.money(p["target"]),
                "actual": L.money(p["actual"]),
                "expected": L.money(p["expected_to_date"]),
                "pace": L.pct(p.get("pace_ratio")),
                "projected": L.money(p.get("projected_finish")),
            },
        }
        png = charts.pacing(
            p["target"], p["expected_to_date"], p["actual"], p.get("projected_finish"),
            names=[L.t(k) for k in charts.PACING_NAMES],
        )  # fmt: skip
        r = render("pacing", L, ctx, {"pacing": png})
        cc = _manager_cc(people, person) if team is None else []
        msg = to_message(r, to=_addr(person), cc=cc, lang=L)
        yield Outgoing(kind, str(person["rep_id"]), person["email"], label, r.subject, msg, extra)


# ------------------------------------------------------------------ weekly feedback


def weekly(conn, period: str, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    """The week starting on the Monday of ``period`` (YYYY-MM-DD or YYYY-Www)."""
    kind = "weekly"
    d.require(
        conn,
        kind,
        [
            "dim_reps",
            "fct_stage_transitions",
            "fct_target_pacing_daily",
            "fct_opportunities",
            "dim_customers",
            "staging.stg_crm__activities",
        ],
    )
    ws = d.week_start(period)
    we = ws + dt.timedelta(days=6)
    label = ws.isoformat()
    tz = config.company_timezone()
    args = {"ws": ws, "we": we, "tz": tz, "m": ws.replace(day=1)}
    people = _people(conn)
    acts = d.group(
        d.fetch(
            conn,
            """
        select owner_id, activity_type, count(*) as n from staging.stg_crm__activities
        where (occurred_at at time zone %(tz)s)::date between %(ws)s and %(we)s
        group by 1, 2 order by 1, 2""",
            args,
        ),
        "owner_id",
    )
    moves = d.group(
        d.fetch(
            conn,
            """
        select t.owner_id, t.opportunity_id, t.stage, t.entered_at, o.amount_company,
            c.account_name
        from marts.fct_stage_transitions t
        left join marts.fct_opportunities o using (opportunity_id)
        left join marts.dim_customers c on c.account_id = o.account_id
        where (t.entered_at at time zone %(tz)s)::date between %(ws)s and %(we)s
        order by t.owner_id, t.entered_at""",
            args,
        ),
        "owner_id",
    )
    pace = {
        str(r["level_key"]): r
        for r in d.fetch(
            conn,
            """
        select * from marts.fct_target_pacing_daily where level = 'rep' and period_type = 'month'
        and as_of_date = (select max(as_of_date) from marts.fct_target_pacing_daily
                          where level = 'rep' and period_type = 'month' and as_of_date <= %(we)s)
        """,
            args,
        )
    }
    types = ["call", "meeting", "visit", "email", "demo"]
    for rep_id, rep in sorted(people.items()):
        if rep.get("role") != "rep" or not rep.get("is_active") or not _deliverable(rep):
            continue
        if skip(outbox.idempotency_key(kind, rep_id, label)):
            continue
        L = _lang(rep)
        counts = {a["activity_type"]: a["n"] for a in acts.get(rep_id, [])}
        p = pace.get(rep_id)
        ctx = {
            "subject": L.t("weekly_subject", period=L.date(ws)),
            "title": L.t("weekly_title"),
            "rep": {"name": rep["rep_name"]},
            "intro": L.t("weekly_intro", start=L.date(ws), end=L.date(we)),
            "activities": [{"type": L.activity(t), "n": counts.get(t, 0)} for t in types],
            "moves": [
                {
                    "opp": m["opportunity_id"],
                    "account": m.get("account_name") or "",
                    "stage": L.stage(m["stage"]),
                    "at": L.date(m["entered_at"]),
                    "amount": L.money(m.get("amount_company")),
                }
                for m in moves.get(rep_id, [])
            ],
            "pace": None
            if p is None
            else {
                "target": L.money(p["target"]),
                "actual": L.money(p["actual"]),
                "expected": L.money(p["expected_to_date"]),
                "pace": L.pct(p.get("pace_ratio")),
                "at_risk": bool(p.get("is_at_risk")),
            },
        }
        png = charts.counts(types, [counts.get(t, 0) for t in types])
        r = render("weekly", L, ctx, {"activities": png})
        msg = to_message(r, to=_addr(rep), lang=L)
        yield Outgoing(kind, rep_id, rep["email"], label, r.subject, msg)


# ------------------------------------------------------------------ quarterly review


def quarterly(conn, period: str, skip: Skip = _no_skip) -> Iterator[Outgoing]:
    """Company-level review for management (directors and managers); no individual figures."""
    kind = "quarterly"
    d.require(
        conn,
        kind,
        [
            "dim_reps",
            "fct_appraisal_summary",
            "fct_rep_kpis_quarterly",
            "fct_quarterly_review",
            "fct_quarterly_recommendations",
        ],
    )
    q = d.quarter_start(period)
    label = d.quarter_label(q)
    args = {"q": q}
    people = _people(conn)
    grades = d.fetch(
        conn,
        "select grade, count(*) as n from marts.fct_appraisal_summary "
        "where period_type = 'quarter' and period_start = %(q)s "
        "and grade is not null group by grade "
        "order by coalesce(nullif(strpos('SABCDE', grade), 0), 99), grade",
        args,
    )
    totals = d.fetch(
        conn,
        "select sum(revenue) as revenue, sum(revenue_target) as target "
        "from marts.fct_rep_kpis_quarterly where period_start = %(q)s",
        args,
    )[0]
    review = d.fetch(
        conn, "select * from marts.fct_quarterly_review where quarter_start = %(q)s", args
    )
    recs = d.fetch(
        conn,
        "select * from marts.fct_quarterly_recommendations where quarter_start = %(q)s order by 1",
        args,
    )
    n = sum(g["n"] for g in grades) or 1
    for pid, person in sorted(people.items()):
        if person.get("role") not in ("manager", "director", "admin") or not _deliverable(person):
            continue
        if skip(outbox.idempotency_key(kind, pid, label)):
            continue
        L = _lang(person)
        ctx = {
            "subject": L.t("quarterly_subject", period=L.quarter(q)),
            "title": L.t("quarterly_title", period=L.quarter(q)),
            "rep": {"name": person["rep_name"]},
            "intro": L.t("quarterly_intro", period=L.quarter(q)),
            "grades": [
                {"grade": g["grade"], "n": g["n"], "share": L.pct(g["n"] / n)} for g in grades
            ],
            "headline": [
                (L.t("total_revenue"), L.money(totals["revenue"])),
                (L.t("total_target"), L.money(totals["target"])),
            ],
            "review": _review_rows(review[0] if review else {}, L),
            "recommendations": [
                r.get("text_zh" if L.locale == "zh_CN" else "text_en") or "" for r in recs
            ],
        }
        png = charts.distribution([g["grade"] for g in grades], [g["n"] for g in grades])
        r = render("quarterly", L, ctx, {"grades": png})
        msg = to_message(r, to=_addr(person), lang=L)
        yield Outgoing(kind, pid, person["email"], label, r.subject, msg)


# (column of fct_quarterly_review, format, label key in i18n.REVIEW_LABELS)
REVIEW_METRICS = [
    ("reps_scored", "num"),
    ("avg_total_score", "num1"),
    ("top_grade_share", "pct"),
    ("share_at_target", "pct"),
    ("share_far_above_target", "pct"),
    ("target_verdict", "text"),
    ("kpis_not_separating", "kpis"),  # codes, comma-separated
    ("plan_completion_rate", "pct"),
    ("plan_goal_met_rate", "pct"),
    ("plan_avg_relative_effect", "pct"),
    ("rewards_given", "num"),
    ("clawbacks", "num"),
    ("reward_cost", "money"),
    ("reward_cost_share", "pct1"),
    ("feedback_responses", "num"),
    ("feedback_avg", "num1"),
    ("feedback_fairness_avg", "num1"),
    ("feedback_clarity_avg", "num1"),
    ("feedback_usefulness_avg", "num1"),
]


def _review_rows(row: dict, L: Lang) -> list[tuple[str, str]]:
    out = []
    for col, fmt in REVIEW_METRICS:
        if col not in row:
            continue
        v = row[col]
        if v in (None, "") and fmt in ("text", "kpis"):
            value = "–"
        elif fmt == "text":
            value = L.verdict(str(v))
        elif fmt == "kpis":
            sep = "、" if L.locale == "zh_CN" else ", "
            value = sep.join(L.kpi(k.strip()) for k in str(v).split(","))
        elif fmt == "money":
            value = L.money(v)
        elif fmt.startswith("pct"):
            value = L.pct(v, 1 if fmt == "pct1" else 0)
        else:
            value = L.num(v, 1 if fmt == "num1" else 0)
        out.append((L.review_label(col), value))
    return out


BUILDERS = {
    "monthly_appraisal": monthly_appraisal,
    "team_report": team_report,
    "reward": reward,
    "pacing": pacing,
    "weekly": weekly,
    "quarterly": quarterly,
}


def build(conn: psycopg.Connection, kind: str, period: str | None, skip: Skip = _no_skip):
    if kind not in BUILDERS:
        raise ValueError(f"unknown report kind {kind!r}; one of {', '.join(KINDS)}")
    return BUILDERS[kind](conn, period, skip)
