"""dbt on the small demo CRM: full build green, marts filled and consistent, as-was crediting,
incremental run after `demo-crm advance` equal to a full refresh row for row, BI read-only
role, and `dbt docs generate`.

One module-scoped database: the demo CRM is created and extracted, then `seed + snapshot +
build` runs once; later tests advance the CRM and run the incremental models.
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from salesperf import config
from salesperf import warehouse as wh
from salesperf.dbt import mart_row_counts, run_dbt, transform
from salesperf.extract import run_extract
from salesperf.landing.entities import get
from salesperf.landing.load import merge_rows
from salesperf.landing.migrations import migrate
from salesperf.sources import demo_crm

CONTRACT_MARTS = [
    "dim_reps",
    "dim_teams",
    "dim_date",
    "dim_customers",
    "fct_opportunities",
    "fct_stage_transitions",
    "fct_funnel_monthly",
    "fct_sales_targets",
    "fct_target_pacing_daily",
    "fct_rep_kpis_monthly",
    "fct_rep_kpis_quarterly",
    "fct_rep_kpis_yearly",
]


@pytest.fixture(scope="module")
def demo(server, tmp_path_factory, monkeypatch_module):
    """A warehouse with the small demo CRM extracted and the marts built."""
    name = f"sp_dbt_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    for key, value in db.env().items():
        monkeypatch_module.setenv(key, value)
    monkeypatch_module.delenv("DEMO_CRM_URL", raising=False)
    paths = tmp_path_factory.mktemp("dbt_demo")
    try:
        with wh.connect(db, autocommit=True) as conn:
            migrate(conn)
        demo_crm.create("small", 42, warehouse=db)
        run_extract("demo_crm", warehouse=db)
        transform(db, target_path=paths / "target", log_path=paths / "logs", unit_tests=True)
        # later tests run dbt again in the same target folder: keep the build's results
        (paths / "build_results.json").write_bytes(
            (paths / "target" / "run_results.json").read_bytes()
        )
        yield {"db": db, "target": paths / "target", "logs": paths / "logs"}
    finally:
        for dbname in (name, f"{name}_democrm"):
            try:
                wh.drop_database(server, dbname)
            except wh.WarehouseError:
                pass


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def query(db, sql, params=None):
    with wh.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_every_contract_mart_is_built_and_filled(demo):
    counts = mart_row_counts(demo["db"])
    empty = [m for m in CONTRACT_MARTS if counts.get(m, 0) == 0]
    assert not empty, f"empty or missing marts: {empty} (counts: {counts})"


def test_unchanged_seeds_are_neither_reloaded_nor_retested(demo, tmp_path):
    """The demo build recorded its seeds; the next incremental build leaves them and their
    own tests out, keeps the tests that hold a model against a seed, and passes. A seed
    table edited in the warehouse makes the next build load them again."""
    import json

    from salesperf import seed_state

    db = demo["db"]
    assert seed_state.unchanged(db)
    (recorded,) = query(db, "select count(*) from ops.dbt_seed_state")[0]
    assert recorded == len(seed_state.seed_names()) == 11

    def loads() -> int:  # rows ever inserted into one seed table
        return query(
            db,
            "select n_tup_ins from pg_stat_user_tables"
            " where schemaname = 'config' and relname = 'grade_bands'",
        )[0][0]

    before = loads()
    transform(db, target_path=tmp_path / "target", log_path=tmp_path / "logs")
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"] for r in results}
    failed = {r["unique_id"]: r["status"] for r in results if r["status"] in ("error", "fail")}
    assert not failed
    assert not [u for u in ran if u.startswith("seed.")]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())["nodes"]
    seed_only_tests = {
        u for u, n in manifest.items()
        if n["resource_type"] == "test"
        and all(p.startswith("seed.") for p in n["depends_on"]["nodes"])
    }  # fmt: skip
    assert len(seed_only_tests) > 50 and not ran & seed_only_tests
    # a model held against a seed is still tested, and every model still runs
    assert any(
        u.startswith("test.salesperf.relationships_fct_appraisal_summary_grade") for u in ran
    )
    assert "test.salesperf.assert_rule_kpis_exist" in ran
    assert "model.salesperf.fct_appraisal_summary" in ran
    assert loads() == before
    assert seed_state.unchanged(db)

    with wh.connect(db, autocommit=True) as conn:
        conn.execute("update config.grade_bands set min_score = min_score")  # same values
    assert seed_state.unchanged(db)  # the content is what it was
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("delete from config.grade_bands where min_score = (select max(min_score)"
                     " from config.grade_bands)")  # fmt: skip
    assert not seed_state.unchanged(db)
    transform(db, target_path=tmp_path / "target", log_path=tmp_path / "logs")
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert "seed.salesperf.grade_bands" in {r["unique_id"] for r in results}
    assert seed_state.unchanged(db)


def test_seed_fingerprint_follows_the_files_seeds_and_their_tests_read(tmp_path, monkeypatch):
    import shutil

    from salesperf import seed_state

    project = tmp_path / "dbt_project"
    shutil.copytree(
        config.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    monkeypatch.setattr(config, "DBT_PROJECT_DIR", project)
    seen = {seed_state.fingerprint()}
    assert seed_state.fingerprint() in seen  # stable
    edits = [
        project / "seeds" / "grade_bands.csv",
        project / "seeds" / "_rules__seeds.yml",
        project / "tests" / "generic" / "required_settings_present.sql",
        project / "macros" / "sql_quoting.sql",
        project / "dbt_project.yml",
    ]
    for path in edits:
        path.write_text(path.read_text() + "\n")
        seen.add(seed_state.fingerprint())
    assert len(seen) == len(edits) + 1
    assert "grade_bands" in seed_state.seed_names()
    (project / "seeds" / "grade_bands.csv").rename(project / "seeds" / "grade_bands_v2.csv")
    assert "grade_bands_v2" in seed_state.seed_names()


def test_incremental_models_keep_their_landing_indexes(demo):
    """Models read landing rows by paths the landing key does not give: rep activities the
    changed (rep, month) groups of raw.activities, the accounts' last contact the changed
    accounts' activities, the as-of date and the engagement window activities by time, stage
    transitions the history of each changed opportunity, both facts the rows deleted since
    their last build (a partial index: deleted rows only), and all three landing tables are
    searched for a day's changes by the time of their extract. Pre-hooks create those
    indexes, once."""
    indexes = query(
        demo["db"],
        "select pg_get_indexdef(indexrelid), indisvalid from pg_index "
        "where indrelid = any(array['raw.activities', 'raw.opportunity_stage_history',"
        " 'raw.opportunities']::regclass[]) and not indisprimary order by 1",
    )
    deleted = "USING btree (GREATEST(_extracted_at, _deleted_at)) WHERE (_deleted_at IS NOT NULL)"
    assert indexes == [
        (
            "CREATE INDEX activities_account_id_occurred_at_idx ON raw.activities "
            "USING btree (account_id, occurred_at)",
            True,
        ),
        ("CREATE INDEX activities_deleted_idx ON raw.activities " + deleted, True),
        (
            "CREATE INDEX activities_extracted_idx ON raw.activities USING btree (_extracted_at)",
            True,
        ),
        (
            "CREATE INDEX activities_occurred_at_idx ON raw.activities USING btree (occurred_at)",
            True,
        ),
        (
            "CREATE INDEX activities_owner_id_occurred_at_idx ON raw.activities "
            "USING btree (owner_id, occurred_at)",
            True,
        ),
        ("CREATE INDEX opportunities_deleted_idx ON raw.opportunities " + deleted, True),
        (
            "CREATE INDEX opportunities_extracted_idx ON raw.opportunities "
            "USING btree (_extracted_at)",
            True,
        ),
        (
            "CREATE INDEX opportunity_stage_history_deleted_idx ON raw.opportunity_stage_history "
            + deleted,
            True,
        ),
        (
            "CREATE INDEX opportunity_stage_history_extracted_idx "
            "ON raw.opportunity_stage_history USING btree (_extracted_at)",
            True,
        ),
        (
            "CREATE INDEX opportunity_stage_history_opportunity_id_idx "
            "ON raw.opportunity_stage_history USING btree (opportunity_id)",
            True,
        ),
    ]


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_a_days_landing_changes_are_found_through_indexes(demo):
    """`landed_or_deleted_after` selects exactly the landing rows extracted or deleted after a
    time, and in a form the planner can answer from two indexes (a BitmapOr of the
    `_extracted_at` index and the partial index of deleted rows). Its earlier form,
    `_extracted_at > t or _deleted_at > t`, could at best read every deleted row for its
    second arm, and without the `_extracted_at` index every daily build scanned all 5 M
    activities of the medium bench to find one day's rows."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    since = "cast('2026-01-10 00:00+00' as timestamptz)"
    inline = (
        "select r.id from (values "
        "(1, timestamptz '2026-01-01', null::timestamptz), (2, '2026-01-11', null), "
        "(3, '2026-01-01', '2026-01-02'), (4, '2026-01-01', '2026-01-11'), "
        "(5, '2026-01-11', '2026-01-02'), (6, '2026-01-11', '2026-01-12'), "
        "(7, '2026-01-10', null), (8, '2026-01-01', '2026-01-10')"
        ") as r (id, _extracted_at, _deleted_at) "
        "where {{ landed_or_deleted_after('r', \"SINCE\") }} order by 1"
        " ;split; "
        "select a.id from {{ source('crm', 'activities') }} as a "
        "where {{ landed_or_deleted_after('a', \"SINCE\") }}"
    ).replace("SINCE", since)
    out = run_dbt(["compile", "--inline", inline, "-q"], db, target_path=target, log_path=logs)
    rows_sql, landing_sql = out.stdout.strip().split(";split;")
    with wh.connect(db) as conn:
        # the landing times are UTC instants; the session time zone must not move them
        conn.execute("set time zone 'UTC'")
        assert [r[0] for r in conn.execute(rows_sql)] == [2, 4, 5, 6]
        conn.execute("set enable_seqscan = off")
        plan = conn.execute("explain (format json) " + landing_sql).fetchone()[0][0]["Plan"]
    nodes = list(_plan_nodes(plan))
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], plan
    by_index = {n.get("Index Name"): n for n in nodes}
    assert {"activities_extracted_idx", "activities_deleted_idx"} <= set(by_index), plan
    # the deleted rows after the time, not every deleted row the partial index holds
    assert "Index Cond" in by_index["activities_deleted_idx"], plan


@pytest.mark.parametrize("model", ["int_targets__quarters", "int_targets__months_by_node"])
def test_target_splits_subtract_the_entered_periods_in_one_pass(demo, model):
    """What the entered quarters of a year (months of a quarter) already hold is one join and
    one aggregate. It was a subquery per year (quarter) row, which PostgreSQL runs once per
    row over every entered period: quadratic in the number of nodes with targets (0.22 s
    against 0.008 s for the month split of the medium bench, same 2,868 rows)."""
    db, target = demo["db"], demo["target"]
    compiled = next((target / "compiled").rglob(f"{model}.sql"))
    with wh.connect(db) as conn:
        [[plan]] = conn.execute(f"explain (format json) {compiled.read_text()}").fetchone()
    per_row = [n for n in _plan_nodes(plan["Plan"]) if n.get("Parent Relationship") == "SubPlan"]
    assert not per_row, per_row


def test_incremental_models_read_their_watermark_from_an_index(demo):
    """Each incremental model whose watermark is `max(_extracted_at)` keeps an index on that
    column (post-hook), so reading the watermark, once per hook that needs it, does not scan
    the model; a full refresh builds a new table and so a new index."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    models = [
        "intermediate.int_sales__funnel_opportunity_stages",
        "marts.fct_opportunities",
        "marts.fct_stage_transitions",
    ]

    def watermark_indexes() -> list[str]:
        return [
            r[0]
            for r in query(
                db,
                "select i.indrelid::regclass::text from pg_index as i "
                "join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0] "
                "where a.attname = '_extracted_at' and i.indrelid::regclass::text = any(%s) "
                "order by 1",
                (models,),
            )
        ]

    assert watermark_indexes() == models
    run_dbt(["run", "-s", "fct_opportunities", "--full-refresh"], db, target_path=target,
            log_path=logs)  # fmt: skip
    assert watermark_indexes() == models
    with wh.connect(db) as conn:
        conn.execute("set enable_seqscan = off")
        plan = conn.execute(
            "explain (format json) select max(_extracted_at) from marts.fct_opportunities"
        ).fetchone()[0][0]["Plan"]
    assert not [n for n in _plan_nodes(plan) if n["Node Type"] == "Seq Scan"], plan


def test_incremental_runs_analyze_only_by_autovacuums_rule(demo):
    """An incremental model is analyzed when it is created or rebuilt with --full-refresh,
    and by an incremental run that changed at least 10 % of its rows (autovacuum's
    threshold): a run that changed nothing leaves its statistics alone."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]

    def analyzed() -> int:
        return query(
            db,
            "select analyze_count from pg_stat_user_tables "
            "where schemaname = 'marts' and relname = 'fct_opportunities'",
        )[0][0]

    def run(*args: str) -> None:
        run_dbt(["run", "-s", "fct_opportunities", *args], db, target_path=target, log_path=logs)

    before = analyzed()
    assert before >= 1  # analyzed when it was created
    # nothing landed since the build, and no look-back (the build was minutes ago): no row
    # of the model changes
    run("--vars", "{incremental_lookback_hours: 0}")
    assert analyzed() == before
    run("--vars", "{incremental_lookback_hours: 1000000}")  # every row rebuilt
    assert analyzed() == before + 1
    run("--full-refresh")  # a new table, analyzed once
    assert analyzed() == 1


def _engagement_mismatches(db) -> tuple[int, int, int]:
    """Engagement against activities counted here row by row: (mismatched accounts, accounts
    with activities in the window, accounts)."""
    tz = config.company_settings()["timezone"]
    return query(
        db,
        "with as_of as (select as_of_date from intermediate.int_calendar__as_of_date),"
        " expected as ("
        "  select account_id, count(*) filter (where (occurred_at at time zone %(tz)s)::date"
        "   > (select as_of_date from as_of) - 90) as n, max(occurred_at) as last_at"
        "  from raw.activities where _deleted_at is null and account_id is not null"
        "   and (occurred_at at time zone %(tz)s)::date <= (select as_of_date from as_of)"
        "  group by 1)"
        " select count(*) filter (where e.activities_last_90d is distinct from coalesce(x.n, 0)"
        "   or e.last_contact_at is distinct from x.last_at),"
        "  count(*) filter (where x.n > 0), count(*)"
        " from intermediate.int_customers__engagement e"
        " left join expected x on x.account_id = e.account_id",
        {"tz": tz},
    )[0]


def test_engagement_counts_the_last_90_local_days(demo):
    """Activities in the 90 days to the as-of date, by local (company timezone) date, and the
    last contact up to it, counted here row by row against the model's instant bounds: as
    built (last contact from the incremental int_customers__last_contact) and with an
    earlier as_of_date var, where later activities must be left out."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    mismatched, with_recent, total = _engagement_mismatches(db)
    assert total > 0 and with_recent > 0
    assert mismatched == 0

    (as_of,) = query(db, "select as_of_date from intermediate.int_calendar__as_of_date")[0]
    earlier = as_of - timedelta(days=45)
    (later_contacts,) = query(
        db,
        "select count(*) from intermediate.int_customers__last_contact where last_contact_at >= %s",
        (earlier,),
    )[0]
    assert later_contacts > 0  # the var changes what last contact must be
    models = ["int_calendar__as_of_date", "int_customers__engagement"]
    try:
        run_dbt(["run", "-s", *models, "--vars", f"{{as_of_date: '{earlier}'}}"], db,
                target_path=target, log_path=logs)  # fmt: skip
        mismatched, with_recent, total = _engagement_mismatches(db)
        assert total > 0 and with_recent > 0
        assert mismatched == 0
    finally:
        run_dbt(["run", "-s", *models], db, target_path=target, log_path=logs)


def test_kpi_revenue_equals_won_deals_converted_independently(demo):
    """Total revenue in the KPI facts = won deals in raw x the fx_rates seed (read here)."""
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    with (config.DBT_PROJECT_DIR / "seeds" / "fx_rates.csv").open() as fh:
        for row in csv.DictReader(fh):
            rates.setdefault(row["currency"], []).append(
                (date.fromisoformat(row["valid_from"]), Decimal(row["rate_to_company"]))
            )
    tz = config.company_timezone()
    expected = Decimal(0)
    won = query(
        demo["db"],
        "select amount, currency, (closed_at at time zone %s)::date from raw.opportunities"
        " where is_won and _deleted_at is null and closed_at is not null",
        (tz,),
    )
    for amount, currency, closed in won:
        rate = max((r for r in rates[currency or "CNY"] if r[0] <= closed), key=lambda r: r[0])[1]
        expected += (amount * rate).quantize(Decimal("0.01"))
    (actual,) = query(demo["db"], "select sum(revenue) from marts.fct_rep_kpis_monthly")[0]
    assert len(won) > 50
    assert actual == expected


def test_rollups_match_the_monthly_facts(demo):
    rows = query(
        demo["db"],
        """
        select y.rep_id, y.revenue, y.deals_won, m.revenue, m.deals_won
        from marts.fct_rep_kpis_yearly as y
        join (select rep_id, d.year_start, sum(revenue) as revenue, sum(deals_won) as deals_won
              from marts.fct_rep_kpis_monthly k
              join marts.dim_date d on d.date_day = k.period_start
              group by rep_id, d.year_start) as m
          on m.rep_id = y.rep_id and m.year_start = y.period_start
        """,
    )
    assert rows
    assert [r for r in rows if (r[1], r[2]) != (r[3], r[4])] == []


def test_demo_reps_have_targets_and_attainment(demo):
    (with_target, total, attainment_without_target) = query(
        demo["db"],
        "select count(*) filter (where has_target), count(*),"
        " count(*) filter (where not has_target and attainment is not null)"
        " from marts.fct_rep_kpis_monthly",
    )[0]
    assert with_target > total / 2
    assert attainment_without_target == 0


def test_decomposed_rep_months_sum_to_their_team_month(demo):
    bad = query(
        demo["db"],
        """
        select p.target_key, p.target_value, sum(c.target_value),
            sum(c.target_value) = p.target_value as exact
        from marts.fct_sales_targets c
        join marts.fct_sales_targets p on p.target_key = c.parent_target_key
        where c.level = 'rep' and c.period_type = 'month'
        group by p.target_key, p.target_value
        -- parents whose children were all entered, or entered above the parent, are conflicts
        having count(*) filter (where not c.is_pinned) > 0
            and coalesce(sum(c.target_value) filter (where c.is_pinned), 0) <= p.target_value
        """,
    )
    assert len(bad) > 20
    assert [row for row in bad if not row[3]] == []


def test_funnel_entries_never_grow_down_the_funnel(demo):
    grows = query(
        demo["db"],
        """
        select level, level_key, month_start, funnel_stage
        from (select *, lag(entries) over (partition by level, level_key, month_start
                                           order by stage_order) as previous
              from marts.fct_funnel_monthly) f
        where entries > previous
        """,
    )
    (n,) = query(demo["db"], "select count(*) from marts.fct_funnel_monthly")[0]
    assert n > 0
    assert grows == []


def test_pacing_flags_risk_by_the_configured_threshold(demo):
    threshold = Decimal(config.company_settings()["pacing_at_risk_threshold"])
    rows = query(
        demo["db"],
        "select pace_ratio, is_at_risk from marts.fct_target_pacing_daily"
        " where pace_ratio is not null",
    )
    assert rows
    assert all(risk == (ratio < threshold) for ratio, risk in rows)
    assert {risk for _, risk in rows} == {True, False}


def test_bi_role_reads_marts_only(demo, server):
    """A login user in the bi_reader role reads a mart but not raw, and cannot write."""
    db = demo["db"]
    user = f"bi_test_{uuid.uuid4().hex[:8]}"
    with wh.connect(db, autocommit=True) as admin:
        admin.execute(f'create role "{user}" login in role bi_reader')
    try:
        with psycopg.connect(
            host=db.host, port=db.port, dbname=db.dbname, user=user, autocommit=True
        ) as conn:
            assert conn.info.user == user
            (n,) = conn.execute("select count(*) from marts.fct_rep_kpis_monthly").fetchone()
            assert n > 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="raw"):
                conn.execute("select count(*) from raw.opportunities")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="dim_reps"):
                conn.execute("delete from marts.dim_reps")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="marts"):
                conn.execute("create table marts.bi_scratch (x int)")
    finally:
        with wh.connect(db, autocommit=True) as admin:
            admin.execute(f'drop owned by "{user}"')
            admin.execute(f'drop role "{user}"')


def test_docs_generate_works(demo):
    # The build compiled the project into this target path already: only the catalog is new.
    result = run_dbt(
        ["docs", "generate", "--no-compile"],
        demo["db"],
        target_path=demo["target"],
        log_path=demo["logs"],
    )
    assert result.success
    assert (demo["target"] / "catalog.json").stat().st_size > 10_000


def test_staging_keys_stay_unique_across_sources(demo):
    """Landing's primary key makes a staging key unique within a source, so the key test
    reads only the index while one source has landed; a second source that repeats an id
    is grouped and caught like dbt's own `unique` would."""
    select = ["test", "-s", "stg_crm__teams"]
    assert run_dbt(select, demo["db"], target_path=demo["target"], log_path=demo["logs"]).success
    failed = _test_with_bad_rows(
        demo,
        select,
        damage=[
            "insert into raw.teams (id, name, _source, _batch_id) "
            "select id, name, 'other_crm', 'test_dup' from raw.teams order by id limit 1"
        ],
        repair=["delete from raw.teams where _source = 'other_crm'"],
    )
    assert "FAIL 1 landing_key_stg_crm__teams_team_id" in failed.stdout


def _test_with_bad_rows(demo, select: list[str], damage: list[str], repair: list[str]):
    """Run the dbt tests `select` after the `damage` statements, then `repair`; the tests
    must fail. Returns their result."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    with wh.connect(db, autocommit=True) as conn:
        for statement in damage:
            conn.execute(statement)
    try:
        failed = run_dbt(select, db, target_path=target, log_path=logs, check=False)
    finally:
        with wh.connect(db, autocommit=True) as conn:
            for statement in repair:
                conn.execute(statement)
    assert not failed.success
    return failed


def test_a_staging_key_without_the_landing_primary_key_is_read_for_nulls(demo):
    """Without the landing primary key, which keeps the key and `_source` NOT NULL, the
    `landing_key` test reads the rows and reports a missing key (the two `not_null` tests
    it replaced did the same)."""
    select = ["test", "-s", "stg_crm__teams,test_name:landing_key"]
    ((name, definition),) = query(
        demo["db"],
        "select conname, pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'raw.teams'::regclass and contype = 'p'",
    )
    failed = _test_with_bad_rows(
        demo,
        select,
        damage=[
            f'alter table raw.teams drop constraint "{name}"',
            "alter table raw.teams alter column id drop not null",
            "insert into raw.teams (id, name, _source, _batch_id)"
            " values (null, 'no key', 'demo_crm', 'test_null')",
        ],
        repair=[
            "delete from raw.teams where _batch_id = 'test_null'",
            "alter table raw.teams alter column id set not null",
            f'alter table raw.teams add constraint "{name}" {definition}',
        ],
    )
    assert "FAIL 1 landing_key_stg_crm__teams_team_id" in failed.stdout
    assert run_dbt(select, demo["db"], target_path=demo["target"], log_path=demo["logs"]).success


def _view_oid(db, view: str) -> int:
    return query(db, "select %s::regclass::oid", (view,))[0][0]


def test_a_view_built_from_the_same_sql_is_left_in_place(demo):
    """A build leaves a view whose fingerprint (its SQL and its parents' files) matches the
    one in its comment: no new view, no CASCADE drop of the old one. Different SQL (here a
    var changes it), a comment changed by hand and a full refresh build it again."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    view = "staging.stg_crm__teams"

    def run(*extra: str) -> int:
        run_dbt(["run", "-s", "stg_crm__teams", *extra], db, target_path=target, log_path=logs)
        return _view_oid(db, view)

    (comment,) = query(db, "select obj_description(%s::regclass, 'pg_class')", (view,))[0]
    assert comment.startswith("salesperf view fingerprint ")
    built = _view_oid(db, view)
    assert run() == built
    other_sql = run("--vars", "{crm_source: demo_crm}")
    assert other_sql != built
    back = run()
    assert back != other_sql
    assert run() == back
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"comment on view {view} is 'edited by hand'")
    by_hand = run()
    assert by_hand != back
    assert run("--full-refresh") != by_hand
    (comment,) = query(db, "select obj_description(%s::regclass, 'pg_class')", (view,))[0]
    assert comment.startswith("salesperf view fingerprint ")


def test_a_key_is_tested_once_for_nulls_and_duplicates(demo):
    """`unique_and_not_null` is dbt's `unique` and `not_null` in one test: it finds a
    duplicated key and a missing one in a table that no unique index guards, and no column
    is tested by both separate tests any more (each test is a node of dbt's own work). A
    staging key's `landing_key` test covers its `_source` too."""
    import json
    from collections import defaultdict

    db, target, logs = demo["db"], demo["target"], demo["logs"]
    manifest = json.loads((target / "manifest.json").read_text())
    tests = defaultdict(set)
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("column_name"):
            name = (node.get("test_metadata") or {}).get("name")
            tests[node["attached_node"], node["column_name"]].add(name)
    assert not [k for k, names in tests.items() if {"unique", "not_null"} <= names]
    assert tests["model.salesperf.dim_teams", "team_id"] == {"unique_and_not_null"}
    assert tests["model.salesperf.stg_crm__teams", "team_id"] == {"landing_key"}
    assert ("model.salesperf.stg_crm__teams", "_source") not in tests

    select = ["test", "-s", "dim_teams,test_name:unique_and_not_null"]
    assert run_dbt(select, db, target_path=target, log_path=logs).success
    failed = _test_with_bad_rows(
        demo,
        select,
        damage=[
            "insert into marts.dim_teams select * from marts.dim_teams order by team_id limit 1",
            "insert into marts.dim_teams (team_id) values (null)",
        ],
        repair=[
            "delete from marts.dim_teams where team_id is null",
            "delete from marts.dim_teams as a using marts.dim_teams as b"
            " where a.team_id = b.team_id and a.ctid > b.ctid",
        ],
    )
    # one row for the duplicated key, one for the missing one
    assert "FAIL 2 unique_and_not_null_dim_teams_team_id" in failed.stdout


def _unique_index_columns(db, table: str) -> list[list[str]]:
    return [
        sorted(r[0])
        for r in query(
            db,
            "select array(select a.attname::text from pg_attribute a"
            " where a.attrelid = i.indrelid and a.attnum = any(i.indkey))"
            " from pg_index i where i.indrelid = %s::regclass and i.indisunique",
            (table,),
        )
    ]


def test_uniqueness_tests_trust_a_unique_index_and_still_catch_duplicates(demo):
    """The large incremental models keep their key under a unique index, which refuses a
    duplicate when it is written; their `unique`/`unique_combination` tests then read the
    catalog instead of grouping the table. Without the index a duplicate is still found."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    pacing, activities = (
        "marts.fct_target_pacing_daily",
        "intermediate.int_sales__rep_activities_monthly",
    )
    assert ["pacing_key"] in _unique_index_columns(db, pacing)
    assert ["as_of_date", "level", "level_key", "period_type"] in _unique_index_columns(db, pacing)
    assert ["month_start", "rep_id"] in _unique_index_columns(db, activities)
    assert ["opportunity_id"] in _unique_index_columns(db, "marts.fct_opportunities")
    assert ["stage_change_id"] in _unique_index_columns(db, "marts.fct_stage_transitions")
    assert ["funnel_stage", "opportunity_id"] in _unique_index_columns(
        db, "intermediate.int_sales__funnel_opportunity_stages"
    )
    with pytest.raises(psycopg.errors.UniqueViolation), wh.connect(db) as conn:
        conn.execute(f"insert into {pacing} select * from {pacing} limit 1")  # noqa: S608

    select = ["test", "-s", "fct_target_pacing_daily,test_name:unique_and_not_null",
              "int_sales__rep_activities_monthly,test_name:unique_combination"]  # fmt: skip
    passed = run_dbt(select, db, target_path=target, log_path=logs)
    assert passed.success
    copies = {}
    with wh.connect(db, autocommit=True) as conn:
        for table in (pacing, activities):
            for (index,) in conn.execute(
                "select indexrelid::regclass::text from pg_index"
                " where indrelid = %s::regclass and indisunique",
                (table,),
            ).fetchall():
                conn.execute(f"drop index {index}")
            (copies[table],) = conn.execute(
                f"insert into {table} select * from {table} limit 1 returning ctid"  # noqa: S608
            ).fetchone()
    try:
        failed = run_dbt(select, db, target_path=target, log_path=logs, check=False)
    finally:
        with wh.connect(db, autocommit=True) as conn:
            for table, ctid in copies.items():
                conn.execute(f"delete from {table} where ctid = %s::tid", (str(ctid),))  # noqa: S608
        # the next run puts the indexes back (post-hook)
        run_dbt(["run", "-s", "fct_target_pacing_daily", "int_sales__rep_activities_monthly"],
                db, target_path=target, log_path=logs)  # fmt: skip
    assert not failed.success
    assert "FAIL 1 unique_and_not_null_fct_target_pacing_daily_pacing_key" in failed.stdout
    assert "FAIL 1 unique_combination_int_sales__rep_activities_monthly" in failed.stdout
    assert ["pacing_key"] in _unique_index_columns(db, pacing)
    assert ["as_of_date", "level", "level_key", "period_type"] in _unique_index_columns(db, pacing)
    assert ["month_start", "rep_id"] in _unique_index_columns(db, activities)


def _not_null_columns(db, table: str) -> set[str]:
    return {
        r[0]
        for r in query(
            db,
            "select attname from pg_attribute where attrelid = %s::regclass"
            " and attnum > 0 and attnotnull and not attisdropped",
            (table,),
        )
    }


def test_not_null_tests_trust_the_constraint_of_the_incremental_facts(demo):
    """The incremental facts make the columns their `not_null` tests check NOT NULL (post-hook
    `ensure_not_null_tested_columns`): a null is refused when it is written, and the tests
    read the catalog instead of every row. Without the constraint a null is still found."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    table = "marts.fct_opportunities"
    tested = {"opportunity_id", "owner_id", "stage", "is_won", "is_closed"}
    assert tested <= _not_null_columns(db, table)
    assert {"entered_at", "stage"} <= _not_null_columns(db, "marts.fct_stage_transitions")
    assert {"as_of_date", "is_at_risk"} <= _not_null_columns(db, "marts.fct_target_pacing_daily")
    with pytest.raises(psycopg.errors.NotNullViolation), wh.connect(db) as conn:
        conn.execute(
            f"update {table} set owner_id = null"  # noqa: S608
            f" where opportunity_id = (select min(opportunity_id) from {table})"
        )

    select = ["test", "-s", "fct_opportunities,test_name:not_null"]
    assert run_dbt(select, db, target_path=target, log_path=logs).success
    compiled = next((target / "compiled").rglob("not_null_fct_opportunities_owner_id.sql"))
    with wh.connect(db) as conn:
        [[plan]] = conn.execute(f"explain (analyze, format json) {compiled.read_text()}").fetchone()

    def nodes(plan):
        yield plan
        for child in plan.get("Plans", []):
            yield from nodes(child)

    # the scan is never executed, or planned away (PostgreSQL sees `is null` is false)
    scans = [n for n in nodes(plan["Plan"]) if n.get("Relation Name") == "fct_opportunities"]
    assert all(n["Actual Loops"] == 0 for n in scans), plan

    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"alter table {table} alter column owner_id drop not null")
        (nulled,) = conn.execute(
            f"update {table} set owner_id = null where opportunity_id ="  # noqa: S608
            f" (select min(opportunity_id) from {table}) returning opportunity_id"
        ).fetchone()
    try:
        failed = run_dbt(select, db, target_path=target, log_path=logs, check=False)
    finally:
        # the next run rebuilds the row from landing and puts the constraint back
        with wh.connect(db, autocommit=True) as conn:
            conn.execute(f"delete from {table} where opportunity_id = %s", (nulled,))  # noqa: S608
        run_dbt(["run", "-s", "fct_opportunities", "--vars",
                 "{incremental_lookback_hours: 1000000}"],
                db, target_path=target, log_path=logs)  # fmt: skip
    assert not failed.success
    assert "FAIL 1 not_null_fct_opportunities_owner_id" in failed.stdout
    assert tested <= _not_null_columns(db, table)


def test_landing_history_is_pruned_once_no_model_needs_it(demo):
    """A dbt run that builds a reader of landing history ends by dropping the replaced
    landing versions no incremental model will read again: for activities (read by the
    activities aggregate) those replaced a day or more before its watermark; for
    opportunities (read by no model) all of them. A run that builds no reader (Cosmos runs
    dbt once per model) moves no watermark and prunes nothing."""
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    (watermark,) = query(
        db, "select max(_extracted_at) from intermediate.int_sales__rep_activities_monthly"
    )[0]
    rows = [
        ("activities", "old", watermark - timedelta(days=3)),
        ("activities", "within_margin", watermark - timedelta(hours=12)),
        ("activities", "not_read_yet", watermark + timedelta(minutes=5)),
        ("opportunities", "unread_entity", watermark + timedelta(minutes=5)),
    ]
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("delete from ops.landing_replaced_rows where _source = 'prune_test'")
        for entity, id_, at in rows:
            conn.execute(
                "insert into ops.landing_replaced_rows"
                " (entity, _source, id, replaced_at, replaced_by_batch, prior)"
                " values (%s, 'prune_test', %s, %s, 'prune_test', '{}')",
                (entity, id_, at),
            )

    def kept() -> set[str]:
        return {
            r[0]
            for r in query(
                db, "select id from ops.landing_replaced_rows where _source = 'prune_test'"
            )
        }

    run_dbt(["run", "-s", "dim_date"], db, target_path=target, log_path=logs)
    assert kept() == {"old", "within_margin", "not_read_yet", "unread_entity"}
    run_dbt(
        ["run", "-s", "int_sales__rep_activities_monthly"], db, target_path=target, log_path=logs
    )
    assert kept() == {"within_margin", "not_read_yet"}
    (unread,) = query(
        db, "select count(*) from ops.landing_replaced_rows where entity = 'opportunities'"
    )[0]
    assert unread == 0


def _move_rep_to_other_team(db) -> tuple[str, str, str, datetime]:
    """Move one rep to another team (later updated_at) and give them a deal won after it."""
    with wh.connect(db) as conn:
        rep, old_team, region = conn.execute(
            "select u.id, u.team_id, t.region from raw.users u join raw.teams t"
            " on t.id = u.team_id and t._source = u._source"
            " where u.role = 'rep' and u._deleted_at is null and u.leave_date is null"
            " and exists (select 1 from raw.opportunities o where o.owner_id = u.id and o.is_won)"
            " order by u.id limit 1"
        ).fetchone()
        new_team = conn.execute(
            "select id from raw.teams where id <> %s and region = %s and manager_id is not null"
            " and id in (select team_id from raw.users where role = 'rep') order by id limit 1",
            (old_team, region),
        ).fetchone()[0]
        (latest,) = conn.execute(
            "select max(greatest(updated_at, closed_at, created_at)) from raw.opportunities"
        ).fetchone()
        moved_at = latest + timedelta(hours=1)
        cols = get("users").column_names
        user = conn.execute(
            sql.SQL("select {} from raw.users where id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, cols))
            ),
            (rep,),
        ).fetchone()
        row = dict(zip(cols, user, strict=True))
        row.update(team_id=new_team, manager_id=None, updated_at=moved_at)
        merge_rows(conn, get("users"), [[row[c] for c in cols]], source="demo_crm",
                   batch_id="test_move")  # fmt: skip
        opp_cols = ["id", "owner_id", "amount", "currency", "stage", "created_at", "closed_at",
                    "is_closed", "is_won", "updated_at"]  # fmt: skip
        won_at = moved_at + timedelta(hours=2)
        merge_rows(conn, get("opportunities"),
                   [["TEST-AS-WAS", rep, 1000, "CNY", "closed_won", moved_at, won_at, True, True,
                     won_at]],
                   source="demo_crm", batch_id="test_move", columns=opp_cols)  # fmt: skip
        conn.commit()
    return rep, old_team, new_team, moved_at


def _schema(model: str) -> str:
    return "intermediate" if model.startswith("int_") else "marts"


def _edit_crm_activities_and_history(db) -> tuple[str, date]:
    """Edits the aggregates must follow back to the old values: one activity moves to a
    month 40 days earlier, one goes to another rep, all of one rep-month's activities go, and
    one opportunity loses its stage history, and one account's activities all move to another
    account. Returns the (rep, month) the moved one left."""
    from salesperf.extract import get_source

    crm = get_source("demo_crm", db).location
    # each edit is stamped after the CRM's last change, so the extract's watermark sees it
    with wh.connect(crm, autocommit=True) as c:
        tz = c.execute("select current_setting('TimeZone')").fetchone()[0]
        c.execute("set timezone = 'Asia/Shanghai'")  # the company timezone of the demo
        rep, month = c.execute(
            "update crm.activities set occurred_at = occurred_at - interval '40 days', "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.activities) "
            "where id = (select min(id) from crm.activities where occurred_at is not null) "
            "returning owner_id::text, "
            "date_trunc('month', (occurred_at + interval '40 days')::date)::date"
        ).fetchone()
        c.execute(f"set timezone = '{tz}'")
        c.execute(
            "update crm.activities set owner_id = (select max(owner_id) from crm.activities), "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.activities) "
            "where id = (select max(id) from crm.activities)"
        )
        c.execute(
            "delete from crm.activities where (owner_id, date_trunc('month', occurred_at)) = "
            "(select owner_id, date_trunc('month', occurred_at) from crm.activities "
            " where occurred_at is not null and owner_id::text <> %s"
            " group by 1, 2 order by count(*), 1, 2 limit 1)",
            (rep,),
        )
        c.execute(
            "delete from crm.opportunity_stage_history where opportunity_id = "
            "(select max(opportunity_id) from crm.opportunity_stage_history)"
        )
        # every activity of the account with the fewest goes to another account: the
        # account's last contact is gone, and the other's may be later
        c.execute(
            "update crm.activities set account_id = (select max(account_id) from crm.activities), "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.activities) "
            "where account_id = (select account_id from crm.activities where account_id is not null"
            " group by 1 order by count(*), 1 limit 1)"
        )
    return rep, month


def _raise_a_sales_target(db) -> None:
    """A CRM target edited after it was built: its period, the periods decomposed from it
    and the quarters and years around its months pace against new numbers."""
    from salesperf.extract import get_source

    with wh.connect(get_source("demo_crm", db).location, autocommit=True) as c:
        c.execute(
            "update crm.sales_targets set value = value * 1.1, "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.sales_targets) "
            "where id = (select max(id) from crm.sales_targets where metric = 'revenue')"
        )


def test_incremental_after_advance_equals_full_refresh_and_credits_as_was(demo):
    db, target, logs = demo["db"], demo["target"], demo["logs"]
    (deleted_before,) = query(
        db, "select count(*) from raw.opportunities where _deleted_at is not null"
    )[0]
    changes = demo_crm.advance(1, warehouse=db)
    assert sum(changes.values()) > 0
    moved = _edit_crm_activities_and_history(db)
    _raise_a_sales_target(db)
    run_extract("demo_crm", warehouse=db, lookback_window=timedelta(0))
    rep, old_team, new_team, moved_at = _move_rep_to_other_team(db)
    (changed, total) = query(
        db,
        "select count(*) filter (where _extracted_at >"
        " (select max(_extracted_at) from marts.fct_opportunities)), count(*)"
        " from raw.opportunities",
    )[0]
    assert 0 < changed < total / 5

    models = [
        "fct_opportunities",
        "fct_stage_transitions",
        "int_sales__funnel_opportunity_stages",
        "int_sales__rep_activities_monthly",
        "int_customers__last_contact",
        "fct_target_pacing_daily",
    ]
    # the old month of the moved activity is counted again, not only its new month
    (old_count,) = query(
        db,
        "select activities_total from intermediate.int_sales__rep_activities_monthly"
        " where rep_id = %s and month_start = %s",
        moved,
    )[0]
    run_dbt(["snapshot"], db, target_path=target, log_path=logs)
    # No look-back: every row extracted in this test is minutes old, so the default window
    # would reprocess everything and prove nothing; only the changed rows go through here.
    run_dbt(["run", "-s", *(f"+{m}" for m in models),
             "--exclude", "resource_type:snapshot",
             "--vars", "{incremental_lookback_hours: 0}"],
            db, target_path=target, log_path=logs)  # fmt: skip

    # As-was: deals closed before the move stay with the old team, the new one goes to the new.
    credited = dict(
        query(
            db,
            "select closed_at < %s, string_agg(distinct team_id, ',') from marts.fct_opportunities"
            " where owner_id = %s and is_won group by 1",
            (moved_at, rep),
        )
    )
    assert credited == {True: old_team, False: new_team}

    (new_count,) = query(
        db,
        "select coalesce(sum(activities_total), 0) from intermediate.int_sales__rep_activities_monthly"
        " where rep_id = %s and month_start = %s",
        moved,
    )[0]
    assert new_count == old_count - 1

    with wh.connect(db, autocommit=True) as conn:
        conn.execute("create schema if not exists cmp")
        for m in models:
            conn.execute(
                sql.SQL("create table cmp.{} as select * from {}.{}").format(
                    sql.Identifier(m), sql.Identifier(_schema(m)), sql.Identifier(m)
                )
            )
    run_dbt(["run", "-s", *models, "--full-refresh"], db, target_path=target, log_path=logs)

    (deleted_after,) = query(
        db, "select count(*) from raw.opportunities where _deleted_at is not null"
    )[0]
    diff = "select count(*) from (select * from {}.{} except all select * from {}.{}) as d"
    # the accounts' last contact keeps, as its watermark, the newest extract among the
    # activities a run read for the account: all of them in a full build, the changed ones
    # in an incremental run; what it holds of the accounts is compared
    last_contact = (
        "select count(*) from (select account_id, last_contact_at from {} except all "
        "select account_id, last_contact_at from {}) as d"
    )
    for m in models:
        cmp_t, mart_t = (sql.Identifier("cmp", m), sql.Identifier(_schema(m), m))
        differ = last_contact if m == "int_customers__last_contact" else diff.replace("{}.{}", "{}")
        only_incremental = query(db, sql.SQL(differ).format(cmp_t, mart_t))
        only_full = query(db, sql.SQL(differ).format(mart_t, cmp_t))
        (rows,) = query(db, sql.SQL("select count(*) from {}").format(mart_t))[0]
        assert rows > 0
        assert (m, only_incremental[0][0], only_full[0][0]) == (m, 0, 0)
    # The advance deleted deals in the CRM; they are gone from the fact.
    assert deleted_after > deleted_before
    (ghosts,) = query(
        db,
        "select count(*) from marts.fct_opportunities f join raw.opportunities r"
        " on r.id = f.opportunity_id where r._deleted_at is not null",
    )[0]
    assert ghosts == 0

    # A table built before the aggregate tracked _extracted_at (it used to be rebuilt whole)
    # has no such column: the next incremental run takes every group as changed, once.
    m = "int_sales__rep_activities_monthly"
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"alter table intermediate.{m} drop column _extracted_at")  # noqa: S608
    run_dbt(["run", "-s", m], db, target_path=target, log_path=logs)
    cmp_t, built_t = sql.Identifier("cmp", m), sql.Identifier("intermediate", m)
    assert query(db, sql.SQL(diff.replace("{}.{}", "{}")).format(cmp_t, built_t))[0][0] == 0
    assert query(db, sql.SQL(diff.replace("{}.{}", "{}")).format(built_t, cmp_t))[0][0] == 0

    # Pacing built before it kept each day's revenue: the next run rebuilds every period.
    m = "fct_target_pacing_daily"
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(f"alter table marts.{m} drop column revenue")  # noqa: S608
        conn.execute(f"update marts.{m} set actual = actual + 1")  # noqa: S608
    run_dbt(["run", "-s", m], db, target_path=target, log_path=logs)
    cmp_t, built_t = sql.Identifier("cmp", m), sql.Identifier("marts", m)
    assert query(db, sql.SQL(diff.replace("{}.{}", "{}")).format(cmp_t, built_t))[0][0] == 0
    assert query(db, sql.SQL(diff.replace("{}.{}", "{}")).format(built_t, cmp_t))[0][0] == 0


def test_pacing_rebuilds_a_period_from_the_day_its_revenue_changed(demo):
    """A won deal's amount changes on a day well inside a built year period: the next run
    writes that period's rows again from that day on, carrying on from the actual stored the
    day before, and leaves the earlier rows as they were (a year period rewrote up to 365 rows
    for one changed day). The actuals still add up each day's revenue from the period start."""
    from salesperf.extract import get_source

    db, target, logs = demo["db"], demo["target"], demo["logs"]
    tz = config.company_settings()["timezone"]
    picked = query(
        db,
        "select o.opportunity_id, p.level_key, p.period_start, d.date_day"
        " from marts.fct_target_pacing_daily as p"
        " join intermediate.int_targets__revenue_daily as d on d.level = 'rep'"
        "  and d.level_key = p.level_key and d.date_day = p.as_of_date and d.revenue > 0"
        " join marts.fct_opportunities as o on o.owner_id = p.level_key and o.is_won"
        "  and (o.closed_at at time zone %(tz)s)::date = d.date_day"
        " where p.level = 'rep' and p.period_type = 'year'"
        "  and p.as_of_date >= p.period_start + 20"
        "  and p.as_of_date <= (select max(as_of_date) from marts.fct_target_pacing_daily) - 5"
        " order by d.date_day, 1 limit 1",
        {"tz": tz},
    )
    assert picked, "no won deal inside a built year period"
    opportunity, rep, period_start, day = picked[0]
    period = (
        "select as_of_date, xmin::text, actual from marts.fct_target_pacing_daily"
        " where level = 'rep' and level_key = %s and period_type = 'year'"
        " and period_start = %s order by 1"
    )
    before = {r[0]: r[1:] for r in query(db, period, (rep, period_start))}

    crm = get_source("demo_crm", db).location
    with wh.connect(crm, autocommit=True) as c:
        c.execute(
            "update crm.opportunities set amount = amount + 1000, "
            "updated_at = (select max(updated_at) + interval '1 second' from crm.opportunities) "
            "where id = %s",
            (int(opportunity),),
        )
    run_extract("demo_crm", warehouse=db, lookback_window=timedelta(0))
    run_dbt(["run", "-s", "+fct_target_pacing_daily", "--exclude", "resource_type:snapshot",
             "--vars", "{incremental_lookback_hours: 0}"],
            db, target_path=target, log_path=logs)  # fmt: skip

    after = {r[0]: r[1:] for r in query(db, period, (rep, period_start))}
    assert before.keys() <= after.keys()  # the bumped update may start a new day
    kept = [d for d in before if after[d][0] == before[d][0]]
    written = [d for d in before if after[d][0] != before[d][0]]
    assert kept and max(kept) < day <= min(written)
    assert all(after[d][1] > before[d][1] for d in written)  # the deal is worth more
    revenue = dict(
        query(
            db,
            "select date_day, revenue from intermediate.int_targets__revenue_daily"
            " where level = 'rep' and level_key = %s and date_day >= %s",
            (rep, period_start),
        )
    )
    for d, (_xmin, actual) in after.items():
        assert actual == sum((v for k, v in revenue.items() if k <= d), Decimal(0)), d


def test_production_builds_leave_unit_tests_to_the_test_suite(monkeypatch):
    """transform() (the CLI, the bench, the demo) skips dbt unit tests, which test SQL on
    fixed inputs; the demo fixture above runs them (unit_tests=True) in every `make test`."""
    from salesperf import dbt as dbt_mod
    from salesperf import seed_state

    seen = []
    monkeypatch.setattr(dbt_mod, "run_dbt", lambda args, *a, **k: seen.append(args))
    recorded = []
    monkeypatch.setattr(seed_state, "record", recorded.append)
    unchanged = iter([False, True])
    monkeypatch.setattr(seed_state, "unchanged", lambda warehouse: next(unchanged))
    dummy = wh.Warehouse("postgresql://nobody@127.0.0.1:1/none", "argument")
    dbt_mod.transform(dummy)
    dbt_mod.transform(dummy, unit_tests=True, full_refresh=True)  # loads seeds, never asks
    dbt_mod.transform(dummy)
    assert seen[0] == ["build", "--exclude-resource-type", "unit_test"]
    assert seen[1] == ["build", "--full-refresh"]
    assert seen[2] == ["build", *seed_state.SKIP_SEEDS_ARGS, "--exclude-resource-type", "unit_test"]
    assert recorded == [dummy, dummy]  # the builds that loaded the seeds record them


def test_the_demo_build_ran_every_unit_test(demo):
    import json

    results = json.loads((demo["target"].parent / "build_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 15 and all(r["status"] == "pass" for r in unit)
