"""Report rendering, scoping and delivery on small hand-made marts (contract columns only).

The marts here are built by SQL in the test database, so these tests pin the data access,
scoping, escaping, MIME structure and outbox behaviour independently of the dbt models;
``test_reports_demo.py`` runs the same reports on marts built by dbt from the demo CRM.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import os
import uuid

import openpyxl
import pytest

from salesperf import config
from salesperf import warehouse as wh
from salesperf.landing.migrations import migrate
from salesperf.mailcatcher import MailCatcher
from salesperf.reports import charts, data, kinds, outbox
from salesperf.reports.run import run

M = dt.date(2026, 9, 1)
EVIL_SCRIPT = "<script>alert(1)</script>"
EVIL_NEWLINE = "Eve\r\nBcc: victim@evil.test"

# rep_id, name, locale, role, team, manager
PEOPLE = [
    ("m1", "王经理", "zh_CN", "manager", "t1", None),
    ("m2", "Mary Manager", "en", "manager", "t2", None),
    ("d1", "Dora Director", "en", "director", None, None),
    ("r1", "张伟", "zh_CN", "rep", "t1", "m1"),
    ("r2", "李娜", "zh_CN", "rep", "t1", "m1"),
    ("r3", EVIL_SCRIPT, "en", "rep", "t1", "m1"),
    ("r4", "Alice Adams", "en", "rep", "t2", "m2"),
    ("r5", "Bob Brown", "en", "rep", "t2", "m2"),
    ("r6", EVIL_NEWLINE, "zh_CN", "rep", "t2", "m2"),
]
REPS = [p for p in PEOPLE if p[3] == "rep"]
REVENUE = {"r1": 120000, "r2": 80000, "r3": 50000, "r4": 99000, "r5": 61000, "r6": 30500}


def _create_marts(conn) -> None:
    conn.execute("create schema if not exists marts; create schema if not exists staging")
    conn.execute("""
        create table marts.dim_reps (rep_id text, rep_name text, email text, locale text,
            role text, team_id text, team_name text, region text, manager_id text,
            manager_name text, manager_email text, hire_date date, leave_date date,
            is_active boolean);
        create table marts.dim_teams (team_id text, team_name text, region text,
            parent_team_id text, manager_id text);
        create table marts.fct_rep_kpis_monthly (rep_id text, period_type text,
            period_start date, team_id text, region text, manager_id text, revenue numeric,
            revenue_target numeric, attainment numeric, has_target boolean, new_customers int,
            deals_won int, deals_lost int, win_rate_count numeric, activities_total int,
            csat_avg numeric, pipeline_created numeric);
        create table marts.fct_rep_kpis_quarterly (like marts.fct_rep_kpis_monthly);
        create table marts.fct_appraisal_scores (rep_id text, period_type text,
            period_start date, kpi text, kpi_label_zh text, kpi_label_en text, actual numeric,
            target numeric, score numeric, weight numeric, effective_weight numeric);
        create table marts.fct_appraisal_summary (rep_id text, period_type text,
            period_start date, total_score numeric, grade text, grade_label_zh text,
            grade_label_en text, rank_in_team int, reps_in_team int, rank_in_company int,
            reps_in_company int, weights_renormalised boolean, note text, note_zh text);
        create table marts.fct_improvement_plans (plan_id text, rep_id text, manager_id text,
            kpi text, baseline numeric, goal numeric, action_type text, action_text_zh text,
            action_text_en text, created_period date, due_date date, status text, effect numeric);
        create table marts.fct_rewards (reward_id text, rule_id text, rep_id text,
            period_type text, period_start date, kind text, title_zh text, title_en text,
            amount numeric, currency text, reason text, references_reward_id text);
        create table marts.fct_funnel_monthly (level text, level_key text, month_start date,
            funnel_stage text, stage_order int, entries int, conversions int,
            conversion_rate numeric, win_rate_count numeric);
        create table marts.fct_target_pacing_daily (level text, level_key text,
            as_of_date date, period_type text, period_start date, target numeric,
            actual numeric, expected_to_date numeric, pace_ratio numeric,
            projected_finish numeric, is_at_risk boolean);
        create table marts.fct_opportunities (opportunity_id text, owner_id text,
            account_id text, amount_company numeric);
        create table marts.fct_stage_transitions (stage_change_id text, opportunity_id text,
            owner_id text, stage text, entered_at timestamptz, exited_at timestamptz);
        create table marts.dim_customers (account_id text, account_name text);
        insert into marts.dim_customers values ('a1', 'Acme & Co');
        create table staging.stg_crm__activities (activity_id text, activity_type text,
            owner_id text, occurred_at timestamptz);
        create table marts.fct_quarterly_review (quarter_start date, share_at_target numeric,
            target_verdict text, reward_cost numeric, top_grade_share numeric,
            kpis_not_separating text);
        create table marts.fct_quarterly_recommendations (recommendation_id text,
            quarter_start date, text_zh text, text_en text);
    """)
    names = {p[0]: p[1] for p in PEOPLE}
    for rid, name, loc, role, team, mgr in PEOPLE:
        conn.execute(
            "insert into marts.dim_reps values (%s,%s,%s,%s,%s,%s,%s,'East',%s,%s,%s,"
            "'2024-01-01',null,true)",
            (
                rid,
                name,
                f"{rid}@example.com",
                loc,
                role,
                team,
                f"Team {team}",
                mgr,
                names.get(mgr),
                f"{mgr}@example.com" if mgr else None,
            ),
        )
    conn.execute(
        "insert into marts.dim_teams values ('t1','Team t1','East',null,'m1'),"
        "('t2','Team t2','East',null,'m2')"
    )
    for i, (rid, _n, _l, _r, team, mgr) in enumerate(REPS):
        for back in range(6):
            pm = data.add_months(M, -back)
            rev = REVENUE[rid] - back * 1000
            conn.execute(
                "insert into marts.fct_rep_kpis_monthly values (%s,'month',%s,%s,'East',%s,%s,"
                "100000,%s,true,%s,%s,1,0.5,%s,4.2,%s)",
                (rid, pm, team, mgr, rev, rev / 100000, i, i + 2, 30 + i, 20000 + i),
            )
        conn.execute(
            "insert into marts.fct_rep_kpis_quarterly values (%s,'quarter','2026-07-01',%s,"
            "'East',%s,%s,300000,%s,true,1,3,1,0.5,90,4.2,50000)",
            (rid, team, mgr, REVENUE[rid] * 3, REVENUE[rid] * 3 / 300000),
        )
        for kpi, w in (("revenue", 0.6), ("new_customers", 0.4)):
            conn.execute(
                "insert into marts.fct_appraisal_scores values (%s,'month',%s,%s,%s,%s,%s,"
                "%s,%s,%s,%s)",
                (
                    rid,
                    M,
                    kpi,
                    "销售额" if kpi == "revenue" else "新客户数",
                    kpi.title(),
                    REVENUE[rid] if kpi == "revenue" else i,
                    100000 if kpi == "revenue" else None,
                    80 + i,
                    w,
                    w,
                ),
            )
        conn.execute(
            "insert into marts.fct_appraisal_summary values (%s,'month',%s,%s,%s,'良好','Good',"
            "%s,3,%s,6,%s,'note','说明')",
            (rid, M, 90 + i, "AB"[i % 2], i % 3 + 1, i + 1, i == 0),
        )
        conn.execute(
            "insert into marts.fct_appraisal_summary values (%s,'quarter','2026-07-01',%s,%s,"
            "null,null,1,3,1,6,false,null,null)",
            (rid, 90 + i, "AB"[i % 2]),
        )
        conn.execute(
            "insert into marts.fct_improvement_plans values (%s,%s,%s,'revenue',%s,100000,"
            "'coaching','每周复盘商机','Weekly pipeline review',%s,'2026-11-30','open',null)",
            (f"p{rid}", rid, mgr, REVENUE[rid], M),
        )
        conn.execute(
            "insert into marts.fct_rewards values (%s,'R02',%s,'month',%s,'honour',%s,"
            "%s,%s,'CNY',%s,null)",
            (
                f"w{rid}",
                rid,
                M,
                '=HYPERLINK("http://evil")' if rid == "r3" else "月度冠军",
                '=HYPERLINK("http://evil")' if rid == "r3" else "Champion",
                500 + i,
                f"revenue {REVENUE[rid]}",
            ),
        )
        conn.execute(
            "insert into marts.fct_target_pacing_daily values ('rep',%s,'2026-09-30','month',"
            "%s,100000,%s,100000,%s,%s,%s)",
            (
                rid,
                M,
                REVENUE[rid],
                REVENUE[rid] / 100000,
                REVENUE[rid],
                REVENUE[rid] / 100000 < 0.85,
            ),
        )
        conn.execute(
            "insert into marts.fct_opportunities values (%s,%s,'a1',12345)", (f"o{rid}", rid)
        )
        conn.execute(
            "insert into marts.fct_stage_transitions values (%s,%s,%s,'proposal',"
            "'2026-09-22 10:00+08',null)",
            (f"s{rid}", f"o{rid}", rid),
        )
        for k in range(i + 1):
            conn.execute(
                "insert into staging.stg_crm__activities values (%s,'call',%s,"
                "'2026-09-23 10:00+08')",
                (f"a{rid}{k}", rid),
            )
    for team, ratio in (("t1", 0.83), ("t2", 0.5)):
        conn.execute(
            "insert into marts.fct_target_pacing_daily values ('team',%s,'2026-09-30','month',"
            "%s,300000,%s,300000,%s,%s,true)",
            (team, M, 300000 * ratio, ratio, 300000 * ratio),
        )
    for team in ("t1", "t2"):
        for order, (stage, n) in enumerate((("lead", 20), ("qualified", 12), ("won", 5))):
            conn.execute(
                "insert into marts.fct_funnel_monthly values ('team',%s,%s,%s,%s,%s,%s,0.5,0.3)",
                (team, M, stage, order, n, n // 2),
            )
    conn.execute(
        "insert into marts.fct_quarterly_review values ('2026-07-01', 0.5, 'too <easy>', 3006);"
        "insert into marts.fct_quarterly_recommendations values ('q1', '2026-07-01',"
        "'提高新客户指标权重', 'Raise the weight of new customers')"
    )


@pytest.fixture
def marts(conn):
    """Fresh hand-made marts for a test that writes (outbox, validation runs)."""
    _create_marts(conn)
    return conn


@pytest.fixture(scope="module")
def shared_marts(server, _created_dbs):
    """One read-only copy of the hand-made marts for the dry-run tests of this module."""
    name = f"sp_reports_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    _created_dbs.append(name)
    with wh.connect(db, autocommit=True) as c:
        migrate(c)
        _create_marts(c)
        yield c


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _dry(marts, kind, period, tmp_path) -> list[email.message.EmailMessage]:
    result = run(marts, kind, period, dry_run_dir=tmp_path / kind)
    assert result.written == result.built
    return [_parse(p.read_bytes()) for p in sorted((tmp_path / kind).glob("*.eml"))]


def _text_of(msg) -> str:
    return "\n".join(
        part.get_content() for part in msg.walk() if part.get_content_type().startswith("text/")
    )


def _other_rep_names(allowed: set[str]) -> list[str]:
    return [n for rid, n, *_ in REPS if rid not in allowed]


def test_monthly_appraisal_scoped_localised_and_escaped(shared_marts, tmp_path):
    msgs = _dry(shared_marts, "monthly_appraisal", "2026-09", tmp_path)
    assert len(msgs) == len(REPS)
    by_rcpt = {m["To"].addresses[0].addr_spec: m for m in msgs}
    for rid, _name, loc, *_ in REPS:
        msg = by_rcpt[f"{rid}@example.com"]
        text = _text_of(msg)
        assert msg["Content-Language"] == loc.replace("_", "-")
        assert ("综合得分" in text) == (loc == "zh_CN") and ("Total score" in text) == (loc == "en")
        assert f"{REVENUE[rid]:,}" in text
        for other in _other_rep_names({rid}):
            assert other.split("\r")[0] not in text
        for orid, rev in REVENUE.items():
            if orid != rid:
                assert f"{rev:,}" not in text
        images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
        assert len(images) == 1 and images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        html = msg.get_body(("html",)).get_content()
        assert f"cid:{images[0]['Content-ID'][1:-1]}" in html
        assert 'style="' in html  # CSS inlined
    evil = by_rcpt["r3@example.com"].get_body(("html",)).get_content()
    assert "<script>" not in evil and "&lt;script&gt;" in evil


def test_newline_in_name_does_not_inject_headers(shared_marts, tmp_path):
    msgs = _dry(shared_marts, "monthly_appraisal", "2026-09", tmp_path)
    msg = next(m for m in msgs if m["To"].addresses[0].addr_spec == "r6@example.com")
    assert msg["Bcc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["r6@example.com"]


def test_team_report_has_only_the_team_and_a_correct_xlsx(shared_marts, tmp_path):
    msgs = _dry(shared_marts, "team_report", "2026-09", tmp_path)
    assert sorted(m["To"].addresses[0].addr_spec for m in msgs) == [
        "m1@example.com",
        "m2@example.com",
    ]
    for msg in msgs:
        mgr = msg["To"].addresses[0].addr_spec.split("@")[0]
        team = {r[0] for r in REPS if r[5] == mgr}
        text = _text_of(msg)
        for other in _other_rep_names(team):
            assert other.split("\r")[0] not in text
        assert len([p for p in msg.walk() if p.get_content_type() == "image/png"]) == 2
        (att,) = list(msg.iter_attachments())
        wb = openpyxl.load_workbook(io.BytesIO(att.get_content()))
        zh = mgr == "m1"
        ws = wb["指标" if zh else "KPIs"]  # headers and sheets in the manager's language
        header = [c.value for c in ws[1]]
        assert header[:3] == (["ID", "销售", "销售额"] if zh else ["ID", "Rep", "Revenue"])
        rows = [
            dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)
        ]
        assert {r["ID"] for r in rows} == team
        at = header.index("目标达成率" if zh else "Target attainment")
        assert all(r[at].number_format == "0.0%" for r in ws.iter_rows(min_row=2))
        expected = shared_marts.execute(
            "select sum(revenue) from marts.fct_rep_kpis_monthly where manager_id = %s "
            "and period_start = %s",
            (mgr, M),
        ).fetchone()[0]
        assert sum(r["销售额" if zh else "Revenue"] for r in rows) == pytest.approx(float(expected))
        plans = [[c.value for c in r] for r in wb["改进计划" if zh else "Plans"].iter_rows()]
        assert plans[1][1:3] == (["销售额", "待开始"] if zh else ["Revenue", "open"])
        rewards = wb["奖励" if zh else "Rewards"]
        titles = [r[1].value for r in rewards.iter_rows(min_row=2)]
        assert all(not str(t).startswith("=") for t in titles)
    m1 = next(m for m in msgs if m["To"].addresses[0].addr_spec == "m1@example.com")
    cells = [
        c.value
        for r in openpyxl.load_workbook(io.BytesIO(next(m1.iter_attachments()).get_content()))[
            "奖励"
        ].iter_rows(min_row=2)
        for c in r
    ]
    assert '\'=HYPERLINK("http://evil")' in cells


def test_funnel_stages_are_named_in_the_readers_language(marts, tmp_path):
    """Stage codes (closed_lost) are the marts' values, not words for a reader: the weekly
    e-mail's pipeline moves and the team report's funnel name them in the recipient's
    language; a stage outside the six canonical ones keeps its code, spaced. Seen in the
    demo: a Chinese rep read "-> closed_lost"."""
    marts.execute(
        "update marts.fct_stage_transitions set stage = 'closed_lost' where owner_id = 'r1';"
        "update marts.fct_stage_transitions set stage = 'closed_won' where owner_id = 'r4';"
        "update marts.fct_funnel_monthly set funnel_stage = 'closed_won' where funnel_stage = 'won'"
    )
    weekly = {
        m["To"].addresses[0].addr_spec: m for m in _dry(marts, "weekly", "2026-09-21", tmp_path)
    }
    team = {
        m["To"].addresses[0].addr_spec: m for m in _dry(marts, "team_report", "2026-09", tmp_path)
    }
    for msg, words, code in (
        (weekly["r1@example.com"], ["输单"], "closed_lost"),
        (weekly["r4@example.com"], ["Closed won"], "closed_won"),
        (team["m1@example.com"], ["赢单", "qualified"], "closed_won"),
        (team["m2@example.com"], ["Closed won", "qualified"], "closed_won"),
    ):
        for part in ("plain", "html"):
            body = msg.get_body((part,)).get_content()
            assert all(w in body for w in words) and code not in body, (msg["To"], part)


def test_quarterly_review_names_kpis_and_says_what_the_grade_share_is(marts, tmp_path):
    """The review lists the KPIs that stopped separating reps by name, not by code, and its
    grade line is the share in the most common grade (max over grades), which the label
    called the top grade: a manager read 37 % of reps in S where S had 15 %."""
    marts.execute(
        "update marts.fct_quarterly_review set top_grade_share = 0.37, "
        "kpis_not_separating = 'csat_avg, pipeline_created, my_new_kpi'"
    )
    msgs = {
        m["To"].addresses[0].addr_spec: m for m in _dry(marts, "quarterly", "2026-Q3", tmp_path)
    }
    for addr, words in (
        ("m1@example.com", ["客户满意度、新增商机金额、my new kpi", "人数最多的等级占比"]),
        (
            "m2@example.com",
            ["Customer satisfaction, Pipeline created, my new kpi", "most common grade"],
        ),
    ):
        for part in ("plain", "html"):
            body = msgs[addr].get_body((part,)).get_content()
            assert all(w in body for w in words), (addr, part)
            assert "csat_avg" not in body and "top grade" not in body and "最高等级" not in body


def test_pacing_chart_is_labelled_in_the_readers_language(marts, tmp_path, monkeypatch):
    """Seen in the demo: a Chinese rep's pacing chart said target / expected / actual."""
    drawn, real = [], charts.pacing
    monkeypatch.setattr(
        charts, "pacing", lambda *a, **kw: drawn.append(kw["names"]) or real(*a, **kw)
    )
    msgs = _dry(marts, "pacing", "2026-09", tmp_path)
    assert len(drawn) == len(msgs) and ["目标", "应达进度", "实际", "预计完成"] in drawn
    assert ["Target", "Expected to date", "Actual", "Projected finish"] in drawn


def test_appraisal_says_which_kpis_were_left_out_in_both_parts(marts, tmp_path):
    """A renormalised total says why, in the text part as in the HTML: the summary's note
    (which KPIs, no data or too small a sample), after a general line that covers both
    reasons. Seen in the demo: a rep whose customer satisfaction had a sample too small
    read 'some KPIs had no data' in the text part, and nothing more."""
    marts.execute(
        "update marts.fct_appraisal_summary set weights_renormalised = true,"
        " note = 'Sample below the minimum for Customer satisfaction.',"
        " note_zh = '以下指标样本量不足：客户满意度。' where period_type = 'month'"
    )
    msgs = {
        m["To"].addresses[0].addr_spec: m
        for m in _dry(marts, "monthly_appraisal", "2026-09", tmp_path)
    }
    for addr, words in (
        ("r1@example.com", ["无数据或样本量不足", "以下指标样本量不足：客户满意度。"]),
        (
            "r4@example.com",
            [
                "no data or too small a sample",
                "Sample below the minimum for Customer satisfaction.",
            ],
        ),
    ):
        for part in ("plain", "html"):
            body = msgs[addr].get_body((part,)).get_content()
            assert all(w in body for w in words), (addr, part)


def test_a_kpi_added_to_the_scorecard_seed_is_named_by_its_labels(marts, tmp_path, monkeypatch):
    """docs/rules.md: label_zh and label_en are the KPI's names in reports. A KPI added to
    kpi_scorecard.csv (here the docs' sales-cycle example) is named by them wherever an
    e-mail names a KPI from its code: improvement plans, the quarterly review's list."""
    seed = tmp_path / "kpi_scorecard.csv"
    seed.write_text(
        config.KPI_SCORECARD_SEED.read_text(encoding="utf-8")
        + "avg_sales_cycle_days,0,linear,,150,90,30,false,deals_won,2,avg,销售周期,Sales cycle\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(config, "KPI_SCORECARD_SEED", seed)
    config.kpi_labels.cache_clear()
    try:
        marts.execute(
            "update marts.fct_improvement_plans set kpi = 'avg_sales_cycle_days';"
            "update marts.fct_quarterly_review set kpis_not_separating = 'avg_sales_cycle_days'"
        )
        team = {
            m["To"].addresses[0].addr_spec: m
            for m in _dry(marts, "team_report", "2026-09", tmp_path)
        }
        review = {
            m["To"].addresses[0].addr_spec: m for m in _dry(marts, "quarterly", "2026-Q3", tmp_path)
        }
    finally:
        config.kpi_labels.cache_clear()
    for msgs, addr, word in (
        (team, "m1@example.com", "销售周期"),
        (team, "m2@example.com", "Sales cycle"),
        (review, "m1@example.com", "销售周期"),
        (review, "m2@example.com", "Sales cycle"),
    ):
        for part in ("plain", "html"):
            body = msgs[addr].get_body((part,)).get_content()
            assert word in body and "avg_sales_cycle_days" not in body and "avg sales" not in body


def test_the_funnels_win_rate_is_the_cohorts_said_once(marts, tmp_path):
    """fct_funnel_monthly's win rate is the month's cohort's (won / closed among the
    opportunities created in the month), the same on every stage row; as a column it read
    as a win rate per stage (9.1 % for prospecting, 9.1 % for negotiation ...)."""
    msg = next(
        m
        for m in _dry(marts, "team_report", "2026-09", tmp_path)
        if m["To"].addresses[0].addr_spec == "m2@example.com"
    )
    for part in ("plain", "html"):
        body = msg.get_body((part,)).get_content()
        assert body.count("30.0%") == 1, part  # the fixture's cohort win rate, 0.3
        assert "this month's new opportunities (those closed so far): 30.0%" in body, part


def test_a_reward_says_which_period_earned_it(marts, tmp_path):
    """A month's appraisal lists every reward whose period ends in the month: a quarterly
    bonus earned on the quarter's total score sat beside the month's score (115 against
    27.5 in the demo) with nothing to say it was the quarter's."""
    for rid in ("r1", "r4"):
        marts.execute(
            "insert into marts.fct_rewards values (%s,'R05',%s,'quarter','2026-07-01','money',"
            "'季度奖金','Quarterly bonus',1000,'CNY','Total score 115 (>= 105)',null)",
            (f"q{rid}", rid),
        )
    msgs = {
        m["To"].addresses[0].addr_spec: m
        for m in _dry(marts, "monthly_appraisal", "2026-09", tmp_path)
    }
    for addr, words in (
        ("r1@example.com", ["季度奖金（2026年第3季度）", "月度冠军（2026年9月）"]),
        ("r4@example.com", ["Quarterly bonus (Q3 2026)", "(September 2026)"]),
    ):
        for part in ("plain", "html"):
            body = msgs[addr].get_body((part,)).get_content()
            assert all(w in body for w in words), (addr, part)


def test_team_report_says_which_plans_are_overdue_in_both_parts(marts, tmp_path):
    """The team report lists every plan not closed, overdue ones included: each line says
    where the plan stands, in the text part as in the HTML, and the Chinese heading does not
    call them all 进行中 (in progress). Seen in the demo: a plan overdue since 2025-11 listed
    under 进行中的改进计划 with no status in the text part."""
    for rid, mgr in (("r1", "m1"), ("r4", "m2")):
        marts.execute(
            "insert into marts.fct_improvement_plans values (%s,%s,%s,'revenue',1,2,"
            "'coaching','拜访计划','Visit plan','2025-10-01','2025-11-30','overdue',null)",
            (f"late-{rid}", rid, mgr),
        )
    msgs = {
        m["To"].addresses[0].addr_spec: m for m in _dry(marts, "team_report", "2026-09", tmp_path)
    }
    for addr, overdue, open_ in (
        ("m1@example.com", "已逾期", "待开始"),
        ("m2@example.com", "overdue", "open"),
    ):
        msg = msgs[addr]
        for part in ("plain", "html"):
            body = msg.get_body((part,)).get_content()
            assert overdue in body and open_ in body, (addr, part)
    zh_text = msgs["m1@example.com"].get_body(("plain",)).get_content()
    assert "进行中的改进计划" not in zh_text and "未结的改进计划" in zh_text


def test_reward_cc_manager_pacing_levels_weekly_quarterly(shared_marts, tmp_path):
    rewards = _dry(shared_marts, "reward", "2026-09", tmp_path)
    assert len(rewards) == len(REPS)
    r1 = next(m for m in rewards if m["To"].addresses[0].addr_spec == "r1@example.com")
    assert [a.addr_spec for a in r1["Cc"].addresses] == ["m1@example.com"]
    assert "月度冠军" in _text_of(r1)

    pacing = _dry(shared_marts, "pacing", "2026-09", tmp_path)
    rcpts = sorted(m["To"].addresses[0].addr_spec for m in pacing)
    # reps below 85 % of pace (r2, r3, r5, r6) and both teams' managers
    assert rcpts == sorted(
        [
            "r2@example.com",
            "r3@example.com",
            "r5@example.com",
            "r6@example.com",
            "m1@example.com",
            "m2@example.com",
        ]
    )
    far = next(m for m in pacing if m["To"].addresses[0].addr_spec == "m2@example.com")
    assert "far behind pace" in _text_of(far)

    weekly = _dry(shared_marts, "weekly", "2026-09-21", tmp_path)
    assert len(weekly) == len(REPS)
    w5 = next(m for m in weekly if m["To"].addresses[0].addr_spec == "r5@example.com")
    assert "Acme & Co #or5" in _text_of(w5) and "or4" not in _text_of(w5)
    assert "Acme &amp; Co" in w5.get_body(("html",)).get_content()

    quarterly = _dry(shared_marts, "quarterly", "2026-Q3", tmp_path)
    assert sorted(m["To"].addresses[0].addr_spec for m in quarterly) == [
        "d1@example.com",
        "m1@example.com",
        "m2@example.com",
    ]
    for msg in quarterly:
        assert not any(name.split("\r")[0] in _text_of(msg) for _i, name, *_ in REPS)
    d1 = next(m for m in quarterly if m["To"].addresses[0].addr_spec == "d1@example.com")
    assert "Raise the weight of new customers" in _text_of(d1)
    assert "Share of reps at target" in _text_of(d1) and "too &lt;easy&gt;" in _text_of(d1)


def test_missing_mart_fails_with_its_name(conn):
    conn.execute("create schema if not exists marts")
    conn.execute("create table marts.dim_reps (rep_id text)")
    with pytest.raises(data.MissingMartError, match=r"missing marts\.fct_rewards"):
        list(kinds.build(conn, "reward", "2026-09"))


def test_validation_gate_blocks_reports(marts):
    with pytest.raises(data.NotValidatedError, match="no validation"):
        run(marts, "reward", "2026-09", require_validation=True, send=False)
    marts.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful,"
        " failed) values ('r1', 'marts.fct_rewards', 'marts', false, 3, 2, 1),"
        " ('r1', 'marts.dim_reps', 'marts', true, 3, 3, 0)"
    )
    with pytest.raises(data.NotValidatedError, match=r"failed \(marts.fct_rewards\)"):
        run(marts, "reward", "2026-09", require_validation=True, send=False)
    marts.execute(
        "insert into ops.validation_runs (run_id, suite, layer, success, evaluated, successful,"
        " failed, started_at) values ('r2', 'marts.fct_rewards', 'marts', true, 3, 3, 0,"
        " now() + interval '1 second')"
    )
    assert run(marts, "reward", "2026-09", require_validation=True, send=False).enqueued == 6


def test_send_through_smtp_once_then_nothing_new(marts, tmp_path):
    with MailCatcher(tmp_path / "mail") as mc:
        smtp = outbox.SmtpSettings.from_uri(
            f"smtp://127.0.0.1:{mc.port}?disable_tls=true&disable_ssl=true"
        )
        first = run(marts, "monthly_appraisal", "2026-09", smtp=smtp, backoff=0.01)
        second = run(marts, "monthly_appraisal", "2026-09", smtp=smtp, backoff=0.01)
        got = mc.messages()
    assert (first.enqueued, first.send.sent) == (len(REPS), len(REPS))
    assert (second.built, second.enqueued, second.send.sent) == (0, 0, 0)
    assert sorted(m["X-Envelope-To"] for m in got) == sorted(f"{r[0]}@example.com" for r in REPS)
    for m in got:
        assert any(p.get_content_type() == "image/png" for p in m.walk())


def test_report_periods_from_logical_dates_in_company_time():
    from salesperf.reports import tasks

    # 2026-11-01 09:00 Shanghai is 2026-11-01 01:00 UTC; a UTC date on Oct 31 is still Nov 1
    run_at = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    assert tasks.previous_month(run_at) == "2026-10"
    assert tasks.previous_week(dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)) == "2026-10-26"
    assert tasks.previous_quarter(dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)) == "2026-Q3"
    assert tasks.previous_quarter(dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC)) == "2025-Q4"


def _content(msg) -> list[tuple[str, bytes]]:
    """Every leaf part's type and content, with the random Message-ID/Content-ID parts cut,
    charts left out and workbooks compared by their cells."""
    import re

    out = []
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        data = part.get_payload(decode=True)
        if part.get_content_maintype() == "text":
            data = re.sub(rb"[\w.-]+@salesperf\.local", b"", data)
        elif part.get_content_type() == "image/png":
            data = b""
        elif part.get_content_type().endswith("spreadsheetml.sheet"):
            # the zip stamps each member with the time it was written: compare the cells
            book = openpyxl.load_workbook(io.BytesIO(data))
            data = repr([[list(r) for r in ws.iter_rows(values_only=True)] for ws in book])
        out.append((part.get_content_type(), data))
    return out


@pytest.mark.parametrize("kind", ["monthly_appraisal", "team_report"])
def test_parallel_rendering_gives_the_same_messages(
    shared_marts, tmp_path, monkeypatch, caplog, kind
):
    """Forked render workers (each with its own share of recipients) produce exactly the
    messages of the sequential path: same files, same recipients, same text and parts."""
    from salesperf.reports import run as run_mod

    monkeypatch.setattr(run_mod, "PARALLEL_MIN_RECIPIENTS", 0)
    monkeypatch.setenv("SALESPERF_RENDER_WORKERS", "1")
    sequential = run(shared_marts, kind, "2026-09", dry_run_dir=tmp_path / "seq")
    assert "worker processes" not in caplog.text
    monkeypatch.setenv("SALESPERF_RENDER_WORKERS", "3")
    with caplog.at_level("INFO", logger="salesperf.reports.run"):
        parallel = run(shared_marts, kind, "2026-09", dry_run_dir=tmp_path / "par")
    assert f"{kind}: rendering in 3 worker processes" in caplog.text
    assert parallel.written == sequential.written > 0
    seq = {p.name: _parse(p.read_bytes()) for p in (tmp_path / "seq").glob("*.eml")}
    par = {p.name: _parse(p.read_bytes()) for p in (tmp_path / "par").glob("*.eml")}
    assert seq.keys() == par.keys()
    for name, msg in seq.items():
        assert msg["To"] == par[name]["To"] and msg["Subject"] == par[name]["Subject"]
        assert _content(msg) == _content(par[name])


def test_render_workers_end_on_sigterm_whatever_the_parent_handles():
    """Airflow's task runner handles SIGTERM with a function that returns at once in any
    process but its own, and forked render workers inherit it. A worker must still die of
    the pool's terminate(); one that ignored it hung a demo run (weekly digest)."""
    import signal

    from salesperf.reports import run as run_mod

    parent = os.getpid()

    def airflow_like(signum, frame):  # what Airflow 3's task_runner installs
        if os.getpid() != parent:
            return

    previous = signal.signal(signal.SIGTERM, airflow_like)
    try:
        pool = run_mod._render_pool(2)
        try:
            handlers = pool.map(signal.getsignal, [signal.SIGTERM] * 2, chunksize=1)
        finally:
            pool.terminate()  # SIGTERM: hangs if a worker ignores it
            pool.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert handlers == [signal.SIG_DFL] * 2  # the parent's is airflow_like


def test_a_worker_terminated_before_it_has_started_still_ends(monkeypatch):
    """The pool's terminate() can reach a worker before its initializer has reset SIGTERM
    (a task killed right after the workers were forked): the worker then still had the
    parent's Airflow-like handler, ignored the signal and waited for work for ever, and
    terminate() with it (seen once in CI: the test above hung). SIGTERM is now held back
    while workers are forked and let through by the initializer, once it ends the worker."""
    import signal
    import threading
    import time

    from salesperf import workers
    from salesperf.reports import run as run_mod

    parent = os.getpid()

    def airflow_like(signum, frame):
        if os.getpid() != parent:
            return

    real_reset = workers.reset_signals

    def slow_reset():  # the race, made certain: the signal arrives before the reset
        time.sleep(1.0)
        real_reset()

    monkeypatch.setattr(workers, "reset_signals", slow_reset)
    previous = signal.signal(signal.SIGTERM, airflow_like)
    try:
        pool = run_mod._render_pool(2)
        pids = [p.pid for p in pool._pool]
        ender = threading.Thread(target=lambda: (pool.terminate(), pool.join()), daemon=True)
        ender.start()
        ender.join(20)
        hung = ender.is_alive()
        for pid in pids if hung else []:  # clean up what the bug leaves behind
            os.kill(pid, signal.SIGKILL)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not hung, "a worker ignored SIGTERM and terminate() hung"


def _signal_state(_=None):
    import signal

    return signal.getsignal(signal.SIGTERM), signal.SIGTERM in signal.pthread_sigmask(
        signal.SIG_BLOCK, []
    )


def test_workers_start_with_sigterm_held_and_the_initializer_lets_it_through():
    """What both worker pools (rendering, validation) rely on: inside sigterm_held the
    forking thread blocks SIGTERM, a worker's reset_signals unblocks it with the default
    action, and the parent's mask is as before afterwards."""
    import multiprocessing
    import signal

    from salesperf import workers

    assert not _signal_state()[1]
    with workers.sigterm_held():
        assert _signal_state()[1]
        pool = multiprocessing.get_context("fork").Pool(1, initializer=workers.reset_signals)
    try:
        assert pool.apply(_signal_state) == (signal.SIG_DFL, False)
    finally:
        pool.terminate()
        pool.join()
    assert not _signal_state()[1]


def test_parallel_enqueue_skips_what_is_queued(marts, monkeypatch):
    from salesperf.reports import run as run_mod

    monkeypatch.setattr(run_mod, "PARALLEL_MIN_RECIPIENTS", 0)
    monkeypatch.setenv("SALESPERF_RENDER_WORKERS", "2")
    first = run(marts, "monthly_appraisal", "2026-09", send=False)
    second = run(marts, "monthly_appraisal", "2026-09", send=False)
    assert (first.built, first.enqueued) == (len(REPS), len(REPS))
    assert (second.built, second.enqueued) == (0, 0)
    keys = [r[0] for r in marts.execute("select idempotency_key from ops.email_outbox")]
    assert len(keys) == len(set(keys)) == len(REPS)


@pytest.mark.parametrize("raw", ["0", "two", "-1"])
def test_render_workers_setting_is_checked(monkeypatch, raw):
    from salesperf.reports.run import render_workers

    monkeypatch.setenv("SALESPERF_RENDER_WORKERS", raw)
    with pytest.raises(ValueError, match="SALESPERF_RENDER_WORKERS"):
        render_workers()


def test_team_workbook_shows_a_kpi_added_to_the_scorecard(marts, tmp_path, monkeypatch):
    """docs/rules.md adds a KPI by a row of kpi_scorecard.csv naming a column of the KPI
    facts; the manager's workbook listed a fixed set of columns, so the new KPI, which now
    counts in every rep's score, was nowhere in it. Scorecard KPIs are columns of the
    workbook, named by their labels, ratios as percentages."""
    marts.execute(
        "alter table marts.fct_rep_kpis_monthly add column avg_sales_cycle_days numeric, "
        "add column win_rate_amount numeric;"
        "update marts.fct_rep_kpis_monthly set avg_sales_cycle_days = 42.5, "
        "win_rate_amount = 0.25"
    )
    seed = tmp_path / "kpi_scorecard.csv"
    seed.write_text(
        config.KPI_SCORECARD_SEED.read_text(encoding="utf-8")
        + "avg_sales_cycle_days,0,linear,,150,150,90,false,deals_won,2,avg,销售周期,Sales cycle\n"
        + "win_rate_amount,0,linear,,150,0,0.5,true,,,avg,金额赢单率,Win rate by amount\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(config, "KPI_SCORECARD_SEED", seed)
    config.kpi_labels.cache_clear()
    try:
        msgs = _dry(marts, "team_report", "2026-09", tmp_path)
    finally:
        monkeypatch.undo()
        config.kpi_labels.cache_clear()
    for msg in msgs:
        zh = msg["To"].addresses[0].addr_spec == "m1@example.com"
        ws = openpyxl.load_workbook(io.BytesIO(next(msg.iter_attachments()).get_content()))[
            "指标" if zh else "KPIs"
        ]
        header = [c.value for c in ws[1]]
        cycle = header.index("销售周期" if zh else "Sales cycle")
        by_amount = header.index("金额赢单率" if zh else "Win rate by amount")
        # beside the other KPIs, before the score and grade
        assert cycle < header.index("综合得分" if zh else "Total score")
        rows = list(ws.iter_rows(min_row=2))
        assert rows and all(r[cycle].value == 42.5 for r in rows)
        assert all(r[by_amount].number_format == "0.0%" for r in rows)


def test_a_kpi_left_out_of_the_total_says_why_instead_of_weight_0(marts, tmp_path):
    """A KPI left out of the total (no target, no data, or too small a sample) showed its
    score beside a weight of 0 %: a rep read 80.0 points that gave nothing and no reason.
    Its weight cell says it does not count and why, in both parts and both languages."""
    marts.execute(
        "alter table marts.fct_appraisal_scores add column missing_reason text, "
        "add column has_data boolean, add column sample_size int, add column min_sample int, "
        "add column below_min_sample boolean, add column counts_in_total boolean;"
        "update marts.fct_appraisal_scores set has_data = true, below_min_sample = false, "
        "counts_in_total = true;"
        "update marts.fct_appraisal_scores set below_min_sample = true, sample_size = 1, "
        "min_sample = 3, counts_in_total = false, effective_weight = 0, score = 80 "
        "where kpi = 'new_customers';"
        "update marts.fct_appraisal_scores set missing_reason = 'no_target', has_data = false, "
        "counts_in_total = false, effective_weight = 0, score = null where kpi = 'revenue'"
    )
    words = {
        "zh_CN": ["不计入（无目标）", "不计入（样本 1，至少 3）"],
        "en": ["not counted (no target)", "not counted (sample 1, minimum 3)"],
    }
    msgs = _dry(marts, "monthly_appraisal", "2026-09", tmp_path)
    assert msgs
    for msg in msgs:
        addr = msg["To"].addresses[0].addr_spec
        (locale,) = marts.execute(
            "select locale from marts.dim_reps where email = %s", (addr,)
        ).fetchone()
        for part in msg.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                body = part.get_content()
                assert all(w in body for w in words[locale]), (addr, part.get_content_type())
