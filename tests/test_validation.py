"""Landing validation with Great Expectations against a real PostgreSQL, and the recording of
every run in ops.validation_runs. Each fault is injected into a fresh copy of good data and
must fail the expectation written for it (and only make that suite fail)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from validation_support import GOOD_LANDING

from salesperf import warehouse as wh
from salesperf.landing.migrations import migrate
from salesperf.validation import gx_context, run_layer


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory) -> Path:
    """One GX context folder for the module (creating suites from scratch is the slow part)."""
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docs")


@pytest.fixture(scope="module")
def module_db(server):
    """One database for the module; each test starts from the good rows (see new_db)."""
    name = f"sp_val_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    yield db
    wh.drop_database(server, name)


@pytest.fixture
def new_db(module_db):
    """Factory: the module database reset to the good landing rows and no history.
    (Resetting schemas is much cheaper than creating and dropping databases.)"""

    def _make(label: str) -> wh.Warehouse:
        with wh.connect(module_db, autocommit=True) as conn:
            conn.execute("drop schema if exists raw cascade; drop schema if exists ops cascade")
            migrate(conn)
            conn.execute(GOOD_LANDING)
        return module_db

    return _make


def _specs(*names: str):
    reg = gx_context.registry()
    return [s for s in reg.all_suites() if s.name in names]


def _run(db, gx_root, docs_dir, *suites, layer="landing", data_docs=False):
    specs = _specs(*suites) if suites else None
    return run_layer(
        layer, warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=specs, data_docs=data_docs
    )


def _failed_rules(result, suite: str) -> list[dict]:
    [s] = [s for s in result.suites if s.suite == suite]
    return s.failures


def test_every_landing_suite_passes_on_good_data_and_is_recorded(new_db, gx_root, docs_dir):
    db = new_db("good")
    result = _run(db, gx_root, docs_dir)

    assert result.success, result.summary()
    names = {s.suite for s in result.suites}
    assert names == {
        f"landing.{e}" for e in __import__("salesperf.landing.entities", fromlist=["x"]).ENTITIES
    }
    with wh.connect(db) as conn:
        rows = conn.execute(
            "select suite, layer, success, evaluated, successful, failed, null,"
            " (details->>'row_count')::int, finished_at >= started_at"
            " from ops.validation_runs where run_id = %s order by suite",
            (result.run_id,),
        ).fetchall()
    assert len(rows) == len(names)
    users = next(r for r in rows if r[0] == "landing.users")
    assert users[1:3] == ("landing", True)
    assert users[3] == users[4] > 5 and users[5] == 0
    assert users[7] == 3  # live users
    assert all(r[8] for r in rows)


def test_negative_amount_fails_the_range_expectation_with_the_bad_row(new_db, gx_root, docs_dir):
    db = new_db("neg")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("update raw.opportunities set amount = -500 where id = 'o2'")
    result = _run(db, gx_root, docs_dir, "landing.opportunities", "landing.users")

    assert not result.success
    assert [s.suite for s in result.failed_suites] == ["landing.opportunities"]
    [failure] = _failed_rules(result, "landing.opportunities")
    assert failure["expectation"] == "expect_column_values_to_be_between"
    assert failure["kwargs"]["column"] == "amount"
    assert failure["unexpected_count"] == 1
    assert failure["sample_rows"][0]["id"] == "o2"


def test_rows_deleted_in_the_source_are_not_validated(new_db, gx_root, docs_dir):
    db = new_db("deleted")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(
            "update raw.opportunities set amount = -500, _deleted_at = now() where id = 'o2'"
        )
    result = _run(db, gx_root, docs_dir, "landing.opportunities")

    assert result.success, result.summary()


def test_duplicate_key_fails_the_key_expectation(new_db, gx_root, docs_dir):
    db = new_db("dupkey")
    with wh.connect(db, autocommit=True) as conn:
        # raw.* has a primary key; a copy without it is how a broken loader would look
        conn.execute("alter table raw.users drop constraint users_pkey")
        conn.execute(
            "insert into raw.users (id, name, role, _source, _batch_id)"
            " values ('u2', 'Li Lei again', 'rep', 'demo', 'b2')"
        )
    result = _run(db, gx_root, docs_dir, "landing.users")

    # Uniqueness is the database's job: the suite checks that the key constraint is there
    # (a catalog lookup) instead of grouping every row of every landing table.
    [failure] = _failed_rules(result, "landing.users")
    assert failure["expectation"] == "expect_no_rows_from_rule_query"
    assert "keeps its primary key on (_source, id)" in failure["rule"]
    assert failure["sample_rows"] == [{"problem": "no primary key on (_source, id)"}]


def test_primary_key_on_other_columns_fails_the_key_expectation(new_db, gx_root, docs_dir):
    db = new_db("otherkey")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute("alter table raw.users drop constraint users_pkey")
        conn.execute("alter table raw.users add primary key (id, _source)")
    result = _run(db, gx_root, docs_dir, "landing.users")
    [failure] = _failed_rules(result, "landing.users")
    assert "primary key" in failure["rule"]


# Each fault must fail exactly the expectation written for it (suite, rule) and show its row.
LANDING_FAULTS = [
    (
        "update raw.satisfaction_surveys set csat = 6 where id = 's1'",
        "landing.satisfaction_surveys",
        "csat: column values to be between",
        {"id": "s1"},
    ),
    (
        "update raw.appraisal_feedback set clarity_score = 0 where id = 'f1'",
        "landing.appraisal_feedback",
        "clarity_score: column values to be between",
        {"id": "f1"},
    ),
    (
        "update raw.opportunities set probability = 140 where id = 'o2'",
        "landing.opportunities",
        "probability: column values to be between",
        {"id": "o2"},
    ),
    (
        "update raw.opportunities set owner_id = 'ghost' where id = 'o3'",
        "landing.opportunities",
        "every owner_id exists in raw.users.id",
        {"id": "o3", "owner_id": "ghost"},
    ),
    (
        "update raw.activities set occurred_at = now() + interval '30 days' where id = 'x1'",
        "landing.activities",
        "occurred_at is not in the future",
        {"id": "x1"},
    ),
    (
        "update raw.orders set amount = -1 where id = 'r1'",
        "landing.orders",
        "amount: column values to be between",
        {"id": "r1"},
    ),
    (
        "update raw.users set email = 'not-an-address' where id = 'u3'",
        "landing.users",
        "an e-mail address looks like one",
        {"id": "u3"},
    ),
    (
        "alter table raw.opportunities alter column expected_close_date type text",
        "landing.opportunities",
        "columns have the types of the landing contract",
        {"column_name": "expected_close_date", "expected_type": "date"},
    ),
    (
        "update raw.teams set parent_id = 'nowhere' where id = 't1'",
        "landing.teams",
        "every parent_id exists in raw.teams.id",
        {"id": "t1"},
    ),
]


def test_each_landing_fault_fails_exactly_its_expectation_and_shows_the_row(
    new_db, gx_root, docs_dir
):
    db = new_db("faults")
    with wh.connect(db, autocommit=True) as conn:
        for fault, *_ in LANDING_FAULTS:
            conn.execute(fault)
    result = _run(db, gx_root, docs_dir, *{suite for _, suite, _, _ in LANDING_FAULTS})

    failed = {(s.suite, f["rule"].split(" (")[0]): f for s in result.suites for f in s.failures}
    expected = {(suite, rule) for _, suite, rule, _ in LANDING_FAULTS}
    assert set(failed) == expected
    for _, suite, rule, row in LANDING_FAULTS:
        sample = failed[(suite, rule)]["sample_rows"]
        assert len(sample) == 1
        assert {k: sample[0][k] for k in row} == row


def test_row_count_is_checked_against_the_previous_successful_run(new_db, gx_root, docs_dir):
    db = new_db("rowcount")
    with wh.connect(db, autocommit=True) as conn:
        conn.execute(
            "insert into raw.activities (id, activity_type, owner_id, occurred_at, _source, _batch_id)"
            " select 'bulk' || g, 'email', 'u2', now() - interval '1 day', 'demo', 'b1'"
            " from generate_series(1, 40) g"
        )
    first = _run(db, gx_root, docs_dir, "landing.activities")
    assert first.success, first.summary()
    with wh.connect(db, autocommit=True) as conn:
        # a truncated export: most rows vanish from the source
        conn.execute("update raw.activities set _deleted_at = now() where id like 'bulk%'")
    second = _run(db, gx_root, docs_dir, "landing.activities")

    # the second run is incremental (its batch holds no live row) and still counts the table
    [suite] = second.suites
    assert suite.details["incremental"]["mode"] == "incremental"
    assert suite.details["incremental"]["batch_rows"] == 0
    [failure] = _failed_rules(second, "landing.activities")
    assert failure["rule"] == "the live row count stays within bounds of the previous run"
    # half of the 42 rows of the previous run
    assert failure["sample_rows"] == [{"live_rows": 2, "min_rows": 21, "max_rows": 520}]


def test_gx_files_hold_no_credentials(new_db, gx_root, docs_dir, server):
    db = new_db("secret")
    secret = "s3cret-Pw-" + uuid.uuid4().hex[:6]
    # trust authentication ignores the password, so the run works and the secret is traceable
    with_pw = wh.Warehouse(db.url.replace("://postgres@", f"://postgres:{secret}@"), "test")
    if secret not in with_pw.url:
        pytest.skip("server URL has its own credentials")
    result = run_layer(
        "landing",
        warehouse=with_pw,
        gx_root=gx_root,
        docs_dir=docs_dir,
        specs=_specs("landing.teams"),
    )
    # Data Docs are built into their own folder and each recorded run links its page
    [suite] = result.suites
    assert suite.data_docs.startswith("file://") and Path(suite.data_docs[7:]).is_file()
    assert (docs_dir / "index.html").is_file()
    with wh.connect(db) as conn:
        link = conn.execute(
            "select data_docs from ops.validation_runs where run_id = %s", (result.run_id,)
        ).fetchone()[0]
    assert link == suite.data_docs

    assert result.success, result.summary()
    files = [p for d in (gx_root, docs_dir) for p in d.rglob("*") if p.is_file()]
    assert any(p.name == "great_expectations.yml" for p in files)
    assert (
        "${SALESPERF_GX_WAREHOUSE_URL}" in (gx_root / "gx" / "great_expectations.yml").read_text()
    )
    leaks = [p for p in files if secret in p.read_text(errors="ignore")]
    assert leaks == []
    assert "analytics_enabled: false" in (gx_root / "gx" / "great_expectations.yml").read_text()


def test_a_missing_table_fails_its_suite_with_a_clear_message(new_db, gx_root, docs_dir):
    db = new_db("missing")
    reg = gx_context.registry()
    from expectations import _rules as r

    spec = reg.mart(
        "fct_not_built_yet", lambda ctx: r.new_suite(ctx, "marts.fct_not_built_yet", *r.key("id"))
    )
    result = run_layer("marts", warehouse=db, gx_root=gx_root, docs_dir=docs_dir, specs=[spec])

    assert not result.success
    [s] = result.suites
    assert s.details["error"] == "table marts.fct_not_built_yet does not exist (has dbt built it?)"
    assert "fct_not_built_yet does not exist" in result.summary()


def test_old_stored_results_and_their_docs_pages_are_pruned(tmp_path):
    import os

    root, docs = tmp_path / "ctx", tmp_path / "docs"
    for base in (root / "gx" / "uncommitted" / "validations", docs / "validations"):
        for i in range(5):
            run = base / "marts" / "dim_reps" / f"run-{i}"
            run.mkdir(parents=True)
            (run / "result.json").write_text("{}")
            os.utime(run, (1_000_000 + i, 1_000_000 + i))

    removed = gx_context.prune_results(root, docs, keep=2)

    assert removed == 6
    for base in (root / "gx" / "uncommitted" / "validations", docs / "validations"):
        assert sorted(p.name for p in (base / "marts" / "dim_reps").iterdir()) == ["run-3", "run-4"]


def test_the_context_parses_its_config_variables_again_only_when_they_change(
    tmp_path, server, monkeypatch
):
    """GX re-parsed uncommitted/config_variables.yml on every lookup of a context variable
    (1,250 times in a medium validation); the context keeps the values until the file or
    the environment changes."""
    from great_expectations.core import config_provider

    parses = []
    parse = config_provider.yaml.load
    monkeypatch.setattr(config_provider.yaml, "load", lambda text: parses.append(1) or parse(text))
    context = gx_context.open_context(server.url, tmp_path / "gx", tmp_path / "docs")
    parses.clear()
    for _ in range(20):
        context.config_provider.get_values()
        context.variables.expectations_store_name  # noqa: B018 - a lookup GX repeats per suite
    assert len(parses) <= 1

    variables = tmp_path / "gx" / "gx" / "uncommitted" / "config_variables.yml"
    variables.write_text(variables.read_text() + "\nsalesperf_probe: first\n")
    assert context.config_provider.get_values()["salesperf_probe"] == "first"
    variables.write_text(variables.read_text().replace("first", "second, longer"))
    assert context.config_provider.get_values()["salesperf_probe"] == "second, longer"
    monkeypatch.setenv("SALESPERF_PROBE", "from the environment")
    variables.write_text(variables.read_text() + "probe_from_env: ${SALESPERF_PROBE}\n")
    assert context.config_provider.get_values()["probe_from_env"] == "from the environment"
    monkeypatch.setenv("SALESPERF_PROBE", "changed")
    assert context.config_provider.get_values()["probe_from_env"] == "changed"


def _reference_rule_plan(conn) -> dict:
    """EXPLAIN ANALYZE of the activities' owner reference rule over the landing table; the
    scan of raw.activities in it, as a plan node."""
    from expectations.landing_common import contract

    [rule] = [
        e
        for e in contract("activities", "landing.activities")
        if (e.meta or {}).get("references", {}).get("column") == "owner_id"
    ]
    sql = rule.unexpected_rows_query.format(batch="raw.activities")
    (plan,) = conn.execute(f"explain (analyze, format json) {sql}").fetchone()[0]

    def scans(node):
        if node.get("Relation Name") == "activities":
            yield node
        for child in node.get("Plans", []):
            yield from scans(child)

    [scan] = scans(plan["Plan"])
    return scan


def test_a_reference_rule_reads_the_batch_only_when_a_kept_value_is_missing(
    new_db, gx_root, docs_dir
):
    """Joining every landing row to its parent (5 M activities) is what a reference rule
    costs; the values kept for it say first whether any can fail."""
    db = new_db("refguard")
    result = _run(db, gx_root, docs_dir, "landing.activities", "landing.users")
    assert result.success, result.summary()
    with wh.connect(db, autocommit=True) as conn:
        scan = _reference_rule_plan(conn)
        assert scan.get("Actual Loops", 0) == 0  # never executed
        conn.execute("update raw.activities set owner_id = 'ghost' where id = 'x1'")
        # what the next run's preparation lists from the changed rows
        conn.execute(
            "insert into dq.landing_ref_missing (values_table, _source, value)"
            " select 'dq.landing_ref_values__activities__owner_id', _source, owner_id"
            " from raw.activities where id = 'x1'"
        )
        scan = _reference_rule_plan(conn)
        assert scan["Actual Loops"] >= 1
    result = _run(db, gx_root, docs_dir, "landing.activities", "landing.users")
    [failure] = _failed_rules(result, "landing.activities")
    assert failure["rule"].startswith("every owner_id exists in raw.users.id")
    assert failure["sample_rows"][0]["id"] == "x1"
    with wh.connect(db) as conn:
        missing = conn.execute(
            "select value from dq.landing_ref_missing"
            " where values_table = 'dq.landing_ref_values__activities__owner_id'"
        ).fetchall()
    assert missing == [("ghost",)]


def test_the_missing_values_table_is_the_one_the_rules_read():
    from salesperf.validation import batches

    gx_context.registry()  # puts the project root on the path
    from expectations import _rules

    assert _rules.REF_MISSING == batches.REF_MISSING


def test_a_validation_process_never_loads_what_no_suite_uses(new_db, tmp_path):
    """GX imports scipy.stats and altair for one expectation no suite uses: a validating
    process (an Airflow task, the CLI) defers them (~0.8 s and 80 MB each), every suite
    still runs, and the modules load as soon as something reads them."""
    import subprocess
    import sys

    db = new_db("deferred")
    script = f"""
import sys
from salesperf import warehouse as wh
from salesperf.validation import run_layer
result = run_layer("landing", warehouse=wh.Warehouse({db.url!r}, "test"),
                   gx_root={str(tmp_path / "gx")!r}, docs_dir={str(tmp_path / "docs")!r})
assert result.success and len(result.suites) > 10, result.summary()
assert "great_expectations" in sys.modules
assert "scipy.stats._stats_py" not in sys.modules and "altair.vegalite" not in sys.modules
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
assert abs(kl.stats.entropy([0.5, 0.5], [0.9, 0.1]) - 0.5108256) < 1e-6
assert kl.alt.Chart.__name__ == "Chart" and "altair.vegalite" in sys.modules
from scipy import stats
assert stats.entropy is kl.stats.entropy and sys.modules["scipy.stats"].entropy is stats.entropy
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")
