"""Mart validation: the suites pass on consistent marts, each injected fault fails exactly the
expectation written for it, and a failed run sends one alert (once, even when retried) to
the data team through a real SMTP server on loopback.

The marts here are small hand-built tables with the contract's columns (a copy of what dbt
builds), so the faults can be injected precisely; the demo-data run is in the e2e test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from salesperf import config
from salesperf import warehouse as wh
from salesperf.landing.migrations import migrate
from salesperf.mailcatcher import MailCatcher
from salesperf.validation import gx_context, run_layer

GOOD_MARTS = """
create schema if not exists marts;
create table marts.dim_reps as select * from (values
  ('u1', 'Wang Fang', 'wang@example.com', 'zh_CN', 'manager', 't1', null, null, true),
  ('u2', 'Li Lei', 'li@example.com', 'zh_CN', 'rep', 't1', 'u1', 'wang@example.com', true),
  ('u3', 'Ann Lee', 'ann@example.com', 'en', 'rep', 't1', 'u1', 'wang@example.com', true),
  ('u4', 'Gone Guy', null, 'en', 'rep', 't1', 'u1', 'wang@example.com', false)
) v(rep_id, rep_name, email, locale, role, team_id, manager_id, manager_email, is_active);
create table marts.dim_teams as select 't1'::text as team_id, 'East'::text as team_name;
create table marts.dim_date as select d::date as date_day from generate_series('2026-01-01'::date, '2026-12-31', '1 day') d;
create table marts.dim_customers as select * from (values
  ('a1', 3, 250000.00, 10000.00, 4.5), ('a2', 0, 0.00, 0.00, null)
) v(account_id, order_count, lifetime_revenue, open_pipeline_amount, avg_csat);
create table marts.fct_opportunities as select * from (values
  ('o1', 'u2', 'won', 120000.00, 120000.00, 80, true, true),
  ('o2', 'u3', 'proposal', 8000.00, 8000.00, null, false, false)
) v(opportunity_id, owner_id, stage, amount, amount_company, sales_cycle_days, is_closed, is_won);
create table marts.fct_stage_transitions as select * from (values
  ('h1', 40, '2026-01-01 10:00+00'::timestamptz, '2026-02-10 10:00+00'::timestamptz),
  ('h2', null, '2026-02-10 10:00+00'::timestamptz, null)
) v(stage_change_id, days_in_stage, entered_at, exited_at);
create table marts.fct_funnel_monthly as select * from (values
  ('company', 'company', '2026-01-01'::date, 'lead', 1, 10, 6, 0.6, 0.5, 0.55),
  ('company', 'company', '2026-01-01'::date, 'qualified', 2, 6, 4, 0.6667, 0.5, 0.55),
  ('company', 'company', '2026-01-01'::date, 'proposal', 3, 4, 2, 0.5, 0.5, 0.55),
  ('company', 'company', '2026-01-01'::date, 'won', 5, 2, null, null, 0.5, 0.55),
  ('rep', 'u2', '2026-01-01'::date, 'lead', 1, 5, 5, 1.0, null, null),
  ('rep', 'u2', '2026-01-01'::date, 'qualified', 2, 5, 3, 0.6, null, null)
) v(level, level_key, month_start, funnel_stage, stage_order, entries, conversions,
    conversion_rate, win_rate_count, win_rate_amount);
create table marts.fct_sales_targets as select * from (values
  ('company:2026', 'company', 'company', null, 'year', '2026-01-01'::date, 'revenue', 1200000.00, true),
  ('east:2026', 'region', 'East', 'company:2026', 'year', '2026-01-01'::date, 'revenue', 700000.00, false),
  ('west:2026', 'region', 'West', 'company:2026', 'year', '2026-01-01'::date, 'revenue', 500000.00, false),
  ('u2:2026', 'rep', 'u2', 'east:2026', 'year', '2026-01-01'::date, 'revenue', 400000.00, true),
  ('u3:2026', 'rep', 'u3', 'east:2026', 'year', '2026-01-01'::date, 'revenue', 300000.00, false),
  -- entered targets that contradict their parent: dbt warns, validation tolerates
  ('u2:2026-01', 'rep', 'u2', 'u2:2026', 'month', '2026-01-01'::date, 'revenue', 10.00, true)
) v(target_key, level, level_key, parent_target_key, period_type, period_start, metric, target_value,
    is_pinned);
create table marts.fct_target_pacing_daily as select * from (values
  ('rep', 'u2', '2026-03-01'::date, 'year', '2026-01-01'::date, 400000.00, 70000.00)
) v(level, level_key, as_of_date, period_type, period_start, target, expected_to_date);
create table marts.fct_rep_kpis_monthly as select * from (values
  ('u2', 'month', '2026-01-01'::date, 120000.00, 100000.00, 1.2000, 1, 0, 30, 1.0, 1.0, 4.5, 50.0),
  ('u3', 'month', '2026-01-01'::date, 0.00, null, null, 0, 1, 12, 0.0, 0.0, null, null)
) v(rep_id, period_type, period_start, revenue, revenue_target, attainment, deals_won, deals_lost,
    activities_total, win_rate_count, win_rate_amount, csat_avg, nps);
create table marts.fct_rep_kpis_quarterly as select * from marts.fct_rep_kpis_monthly;
create table marts.fct_rep_kpis_yearly as select * from marts.fct_rep_kpis_monthly;
create table marts.fct_appraisal_scores as select * from (values
  ('u2', 'month', '2026-01-01'::date, 'revenue', 120.0, 0.6, 0.6, true),
  ('u2', 'month', '2026-01-01'::date, 'activities', 80.0, 0.4, 0.4, true),
  ('u3', 'month', '2026-01-01'::date, 'revenue', null, 0.5, 0.0, false),
  ('u3', 'month', '2026-01-01'::date, 'activities', 60.0, 0.5, 1.0, true)
) v(rep_id, period_type, period_start, kpi, score, weight, effective_weight, counts_in_total);
create table marts.fct_appraisal_summary as select * from (values
  ('u2', 'month', '2026-01-01'::date, 104.0, 'A', 1, 1),
  ('u3', 'month', '2026-01-01'::date, 30.0, 'D', 2, 2)
) v(rep_id, period_type, period_start, total_score, grade, rank_in_team, rank_in_company);
create table marts.fct_improvement_plans as select * from (values
  ('p1', 'u3', 'revenue')
) v(plan_id, rep_id, kpi);
create table marts.fct_rewards as select * from (values
  ('r1', 'u2', 'bonus', 2000.00, null, false), ('r2', 'u2', 'bonus', -2000.00, 'r1', true)
) v(reward_id, rep_id, kind, amount, references_reward_id, is_clawback);
"""

# (fault SQL, suite, rule that must fail, a value that must appear in its sample rows)
MART_FAULTS = [
    (
        "insert into marts.dim_teams values ('t1', 'East again')",
        "marts.dim_teams",
        "team_id: column values to be unique",
        "t1",
    ),
    (
        "update marts.fct_opportunities set amount = -10 where opportunity_id = 'o2'",
        "marts.fct_opportunities",
        "amount: column values to be between",
        "-10",
    ),
    (
        "update marts.fct_appraisal_scores set weight = 0.3 where rep_id = 'u3' and kpi = 'revenue'",
        "marts.fct_appraisal_scores",
        "KPI weights sum to 1 per rep and period",
        "u3",
    ),
    (
        "update marts.fct_appraisal_scores set score = 200 where rep_id = 'u2' and kpi = 'revenue'",
        "marts.fct_appraisal_scores",
        "score: column values to be between",
        "200",
    ),
    (
        "update marts.fct_appraisal_summary set total_score = 200 where rep_id = 'u2'",
        "marts.fct_appraisal_summary",
        "total_score: column values to be between",
        "200",
    ),
    (
        "update marts.fct_sales_targets set target_value = 350000 where target_key = 'u3:2026'",
        "marts.fct_sales_targets",
        "children targets sum to their parent",
        "east:2026",
    ),
    (
        "update marts.fct_funnel_monthly set entries = 7 where level = 'company' and funnel_stage = 'proposal'",
        "marts.fct_funnel_monthly",
        "funnel entries never grow down the funnel",
        "proposal",
    ),
    (
        "update marts.fct_rep_kpis_monthly set attainment = 0.9 where rep_id = 'u2'",
        "marts.fct_rep_kpis_monthly",
        "attainment = revenue / revenue_target",
        "u2",
    ),
    (
        "update marts.dim_reps set email = null where rep_id = 'u3'",
        "marts.dim_reps",
        "every active rep or manager (an e-mail recipient) has an e-mail address",
        "u3",
    ),
    (
        "insert into marts.fct_rewards values ('r3', 'ghost', 'bonus', 10, null, false)",
        "marts.fct_rewards",
        "every rep_id exists in marts.dim_reps.rep_id",
        "ghost",
    ),
    (
        "update marts.fct_improvement_plans set rep_id = 'nobody'",
        "marts.fct_improvement_plans",
        "every rep_id exists in marts.dim_reps.rep_id",
        "nobody",
    ),
]


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docs")


@pytest.fixture(scope="module")
def module_db(server):
    name = f"sp_valm_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    yield db
    wh.drop_database(server, name)


@pytest.fixture
def new_db(module_db):
    """Factory: the module database reset to the consistent marts, no history, no mail."""

    def _make(label: str) -> wh.Warehouse:
        with wh.connect(module_db, autocommit=True) as conn:
            conn.execute("drop schema if exists marts cascade; drop schema if exists ops cascade")
            migrate(conn)
            conn.execute(GOOD_MARTS)
        return module_db

    return _make


@pytest.fixture(scope="module")
def mart_specs():
    """The registered mart suites plus the appraisal/reward builders not yet registered."""
    reg = gx_context.registry()
    from expectations import marts_appraisal

    specs = reg.suites("marts")
    names = {s.name for s in specs}
    specs += [
        reg.mart(t, b) for t, b in marts_appraisal.BUILDERS.items() if f"marts.{t}" not in names
    ]
    return specs


def test_registered_marts_are_built_by_the_dbt_project():
    reg = gx_context.registry()
    models = {p.stem for p in (config.DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    registered = {s.relation.split(".", 1)[1] for s in reg.suites("marts")}
    assert registered, "no mart suites registered"
    assert registered <= models, f"suites for marts dbt does not build: {registered - models}"


def test_mart_suites_pass_on_consistent_marts(new_db, gx_root, docs_dir, mart_specs):
    db = new_db("good")
    result = run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=mart_specs, data_docs=False
    )

    assert result.success, [(s.suite, s.failures) for s in result.failed_suites]
    assert len(result.suites) == len(mart_specs) >= 15


def test_each_mart_fault_fails_exactly_its_expectation(new_db, gx_root, docs_dir, mart_specs):
    db = new_db("faults")
    with wh.connect(db, autocommit=True) as conn:
        for fault, *_ in MART_FAULTS:
            conn.execute(fault)
    result = run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=mart_specs, data_docs=False
    )

    failed = {}
    for s in result.suites:
        for f in s.failures:
            for _, suite, rule, _ in MART_FAULTS:
                if s.suite == suite and f["rule"].startswith(rule):
                    failed[(suite, rule)] = f
    all_failures = [(s.suite, f["rule"]) for s in result.suites for f in s.failures]
    assert len(all_failures) == len(MART_FAULTS), all_failures
    for _, suite, rule, shown in MART_FAULTS:
        f = failed[(suite, rule)]
        rows = f.get("sample_rows") or [{"value": v} for v in f.get("sample_values", [])]
        assert any(shown in str(v) for row in rows for v in row.values()), (suite, rule, rows)
    with wh.connect(db) as conn:
        recorded = dict(
            conn.execute(
                "select suite, success from ops.validation_runs where run_id = %s",
                (result.run_id,),
            ).fetchall()
        )
    assert {suite for _, suite, _, _ in MART_FAULTS} == {s for s, ok in recorded.items() if not ok}


def test_failed_run_sends_one_escaped_alert_even_when_retried(
    new_db, gx_root, docs_dir, mart_specs, tmp_path, monkeypatch
):
    from salesperf.validation.alert import send_alert

    db = new_db("alert")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("update marts.dim_teams set team_id = '<b>t1</b>'")
        conn.execute("insert into marts.dim_teams values ('<b>t1</b>', 'dup')")
    specs = [s for s in mart_specs if s.name == "marts.dim_teams"]
    result = run_layer(
        "marts",
        warehouse=db,
        gx_root=gx_root,
        docs_dir=docs_dir,
        specs=specs,
        run_id="run-42",
        data_docs=False,
    )
    assert not result.success
    monkeypatch.setenv("SALESPERF_DATA_TEAM_EMAILS", "dq@example.com, lead@example.com")
    with MailCatcher(tmp_path / "mail") as mc:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            f"smtp://127.0.0.1:{mc.port}?disable_tls=true&disable_ssl=true&from_email=gx%40x.test",
        )
        first = send_alert(result, warehouse=db)
        retried = send_alert(result, warehouse=db)  # a retried task: same run id
        messages = mc.messages()

    assert "queued; outbox: sent 1" in first
    assert "already queued; outbox: sent 0" in retried
    [msg] = messages
    assert msg["X-Envelope-To"] == "dq@example.com, lead@example.com"
    assert "marts.dim_teams" in msg["Subject"] and "run-42" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "team_id: column values to be unique" in text
    assert "&lt;b&gt;t1&lt;/b&gt;" in html and "<b>t1</b>" not in html
    assert "<b>t1</b>" in text


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_a_key_kept_under_a_unique_index_is_not_grouped_again(new_db, gx_root, docs_dir):
    """Where dbt keeps the key under a unique index, the uniqueness rule reads the catalog
    and never the rows; without the index it groups them and finds the duplicate."""
    from expectations import _rules as rules

    db = new_db("indexed key")
    table = "marts.fct_stage_transitions"
    query = rules.unique("stage_change_id", indexed_in=table).unexpected_rows_query.replace(
        "{batch}",
        f"(select * from {table}) as subselect",  # noqa: S608 - a constant
    )
    spec = [s for s in gx_context.registry().suites("marts") if s.relation == table]
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"create unique index on {table} (stage_change_id)")
        [[plan]] = conn.execute(f"explain (analyze, format json) {query}").fetchone()
        scans = [
            n
            for n in _plan_nodes(plan["Plan"])
            if n.get("Relation Name") == "fct_stage_transitions"
        ]
        assert scans and all(n["Actual Loops"] == 0 for n in scans), scans
        assert conn.execute(query).fetchall() == []
    assert run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=spec, data_docs=False
    ).success

    with wh.connect(db, autocommit=True) as conn:
        conn.execute("drop index marts.fct_stage_transitions_stage_change_id_idx")
        conn.execute(f"insert into {table} select * from {table} limit 1")  # noqa: S608
        duplicated = conn.execute(f"select stage_change_id from {table} limit 1").fetchone()[0]  # noqa: S608
        assert conn.execute(query).fetchall() == [(duplicated, 2)]
    result = run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=spec, data_docs=False
    )
    [suite] = result.suites
    assert [f["rule"] for f in suite.failures] == ["stage_change_id: column values to be unique"]


def test_a_grain_kept_under_a_unique_index_is_not_grouped_again(new_db, gx_root, docs_dir):
    """The pacing grain rule reads the catalog where a unique index on some of the grain's
    columns, all NOT NULL, settles it (dbt keeps one); with a nullable index column (nulls
    are equal for the grain, not for the index) or no index it groups the rows and finds a
    duplicate."""
    from expectations import _rules as rules

    db = new_db("indexed grain")
    table = "marts.fct_target_pacing_daily"
    grain = ("level", "level_key", "as_of_date", "period_type", "period_start")
    query = rules.grain(*grain, indexed_in=table).unexpected_rows_query.replace(
        "{batch}",
        f"(select * from {table}) as subselect",  # noqa: S608 - a constant
    )
    spec = [s for s in gx_context.registry().suites("marts") if s.relation == table]

    def pacing_rows_read(conn) -> int:
        [[plan]] = conn.execute(f"explain (analyze, format json) {query}").fetchone()
        scans = [
            n
            for n in _plan_nodes(plan["Plan"])
            if n.get("Relation Name") == "fct_target_pacing_daily"
        ]
        assert scans
        return sum(n["Actual Loops"] for n in scans)

    with wh.connect(db, autocommit=True) as conn:
        for column in ("level", "level_key", "period_type", "as_of_date"):
            conn.execute(f"alter table {table} alter column {column} set not null")
        conn.execute(
            f"create unique index pacing_grain on {table} (level, level_key, period_type, as_of_date)"
        )
        assert pacing_rows_read(conn) == 0
        assert conn.execute(query).fetchall() == []
    assert run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=spec, data_docs=False
    ).success

    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"alter table {table} alter column level_key drop not null")
        assert pacing_rows_read(conn) > 0  # a nullable index column settles nothing
        conn.execute("drop index marts.pacing_grain")
        conn.execute(f"insert into {table} select * from {table} limit 1")  # noqa: S608
        assert len(conn.execute(query).fetchall()) == 1
    result = run_layer(
        "marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=spec, data_docs=False
    )
    [suite] = result.suites
    assert [f["rule"] for f in suite.failures] == [
        "one row per level × level_key × as_of_date × period_type × period_start"
    ]
