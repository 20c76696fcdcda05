"""The benchmark: per stage rows, seconds, rows/s and peak RSS, against plain-PostgreSQL
baselines measured in the same run on the same rows (DESIGN §8, issue 8).

Stages: generate the demo CRM, extract + load, dbt full build, validation of every row
(landing and marts, the first run), one day of change (`advance --days 1`) followed by the
incremental extract + build and the day's validation (landing rows written since the last
run, marts whole), and rendering every rep's and manager's monthly e-mail (dry run).
Baselines: a plain ``COPY`` of the same source rows into unindexed tables (load), one
hand-written SQL statement for monthly revenue, won count and win rate per rep (transform),
and the daily ``dbt build`` on a warehouse with no rows (what dbt itself costs per run).

Everything runs in a database of its own (``<warehouse db>_bench_<size>``), so a demo or a
developer's data is never touched. Results go to ``.local/bench/`` as JSON and Markdown.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from psycopg import sql

from salesperf import config
from salesperf import warehouse as wh
from salesperf.validation import gx_context

log = logging.getLogger(__name__)

# key -> (what the budget says, limit, "min" | "max": the value must be at least / at most
# the limit). The verdicts and the Markdown table both read them from here.
BUDGETS = {
    "load_vs_copy": ("extract_load rows/s ≥ 0.5 × plain COPY rows/s", 0.5, "min"),
    "incremental_vs_full": ("incremental daily run ≤ 0.15 × full build", 0.15, "max"),
    "validation_vs_full": (
        "validation, whole tables (first run, after the full build) ≤ 0.25 × full build",
        0.25,
        "max",
    ),
    "daily_validation_vs_full": (
        "validation, daily (the day's landing rows, rebuilt marts) ≤ 0.25 × full build",
        0.25,
        "max",
    ),
    "peak_rss_mb": ("no process above 1 GB RSS (largest single process)", 1024.0, "max"),
    "emails_per_s": ("rendering ≥ 50 emails/s", 50.0, "min"),
}


# key -> what a ratio reported without a budget says (the Markdown lists them after the
# verdicts)
REPORTED = {
    "no_change_run_vs_full": "incremental run with no source change / full build",
    "transform_vs_sql_baseline": "dbt full build / the hand-written SQL transform",
    "first_build_vs_full": "a new warehouse's first full build (creates the landing indexes) "
    "/ full build",
    "empty_warehouse_build_vs_full": "the daily dbt build on a warehouse with no rows (what dbt "
    "itself costs) / full build",
}


# The vars of every dbt invocation of the bench. The incremental models re-read rows
# extracted within incremental_lookback_hours (1 h) before the newest row they hold, for
# extracts that committed while the previous build ran. A real daily run finds only the
# last hour of yesterday in that window; the bench compresses a day into minutes, so the
# window would hold the whole initial load, extracted minutes earlier. Nothing runs
# concurrently here, so the look-back is 0, which is what a real day's gap amounts to.
# The full builds take the same vars although they ignore them: dbt parses every file of
# the project again when the vars change (8.0 s instead of 2.0 s from dbt's start to its
# first node in the medium daily run, 2026-12-07), which a pipeline running with the same
# vars every day never pays.
DBT_VARS = "{incremental_lookback_hours: 0}"


def within_budget(key: str, value: float) -> bool:
    _text, limit, bound = BUDGETS[key]
    return value >= limit if bound == "min" else value <= limit


@dataclass
class Stage:
    name: str
    rows: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # the process tree, PSS
    largest_process_rss_mb: float = 0.0
    note: str = ""
    # where the time went (slowest dbt nodes, per-suite seconds...): JSON only
    detail: dict = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class BenchResult:
    size: str
    started_at: str
    machine: dict
    stages: list[Stage] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def to_json(self) -> dict:
        out = asdict(self)
        for s, d in zip(self.stages, out["stages"], strict=True):
            d["rows_per_s"] = round(s.rows_per_s, 1)
        return out

    def to_markdown(self) -> str:
        m = self.machine
        lines = [
            f"### Benchmark, size `{self.size}` ({self.started_at})",
            "",
            f"Machine: {m['cores']} cores, {m['memory_gb']} GB RAM, {m['postgres']}, "
            f"Python {m['python']}.",
            "",
            "| stage | rows | seconds | rows/s | peak memory of the process tree (MB, PSS) "
            "| largest process RSS (MB) | note |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for s in self.stages:
            lines.append(
                f"| {s.name} | {s.rows:,} | {s.seconds:.2f} | {s.rows_per_s:,.0f} | "
                f"{s.peak_rss_mb:,.0f} | {s.largest_process_rss_mb:,.0f} | "
                f"{s.note} |"
            )
        lines += ["", "| budget | value | verdict |", "|---|---:|---|"]
        for key, (text, _limit, _bound) in BUDGETS.items():
            value = self.ratios.get(key)
            shown = "n/a" if value is None else f"{value:,.2f}"
            lines.append(f"| {text} | {shown} | {self.verdicts.get(key, 'n/a')} |")
        for key, text in REPORTED.items():
            if key in self.ratios:
                lines.append(f"| {text} | {self.ratios[key]:,.2f} | reported, no budget |")
        return "\n".join(lines) + "\n"


class RssSampler:
    """Peak memory of this process and all its descendants (dbt subprocesses, forked render
    workers...), and the peak RSS of any single one of them.

    The tree figure sums PSS (proportional set size) where the kernel reports it: forked
    workers share the parent's pages copy-on-write, and summing their RSS would count those
    pages once per process (485 medium e-mails: 1,063 MB "RSS" for ~500 MB really used)."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0
        self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    PSS_EVERY = 5  # samples; reading PSS costs ~5 ms per 250 MB process (page-table walk)

    @staticmethod
    def _pss(pid: int) -> int | None:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def _sample(self, with_pss: bool = True) -> int | None:
        """Tree PSS (None when not read this time); updates the largest single RSS."""
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            self.peak_single = max(self.peak_single, rss)
            if with_pss:
                pss = self._pss(p.pid)
                total += rss if pss is None else pss
        return total if with_pss else None

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            tree = self._sample(with_pss=n % self.PSS_EVERY == 0)
            if tree is not None:
                self.peak = max(self.peak, tree)
            n += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@contextmanager
def measure(result: BenchResult, name: str):
    stage = Stage(name)
    sampler = RssSampler()
    t0 = time.perf_counter()
    with sampler:
        yield stage
    stage.seconds = time.perf_counter() - t0
    stage.peak_rss_mb = sampler.peak / 2**20
    stage.largest_process_rss_mb = round(sampler.peak_single / 2**20, 1)
    result.stages.append(stage)
    log.info("bench %s: %s rows in %.2fs (%.0f rows/s), peak RSS %.0f MB",
             name, stage.rows, stage.seconds, stage.rows_per_s, stage.peak_rss_mb)  # fmt: skip


def machine_info(conn) -> dict:
    version = conn.execute("show server_version").fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "postgres": f"PostgreSQL {version}",
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _live_rows(conn, schema: str) -> int:
    total = 0
    for (table,) in conn.execute(
        "select table_name from information_schema.tables where table_schema = %s "
        "and table_type = 'BASE TABLE'",
        (schema,),
    ).fetchall():
        q = sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        total += conn.execute(q).fetchone()[0]
    return total


def baseline_copy(source: wh.Warehouse, target: wh.Warehouse, tables: list[str]) -> int:
    """Plain COPY of the CRM's tables into unindexed text tables; returns rows copied."""
    rows = 0
    with wh.connect(source) as src, wh.connect(target) as dst:
        dst.execute("drop schema if exists bench_baseline cascade; create schema bench_baseline")
        for table in tables:
            cols = [
                r[0]
                for r in src.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'crm' and table_name = %s order by ordinal_position",
                    (table,),
                )
            ]
            ident = sql.SQL("{}.{}").format(sql.Identifier("bench_baseline"), sql.Identifier(table))
            dst.execute(
                sql.SQL("create table {} ({})").format(
                    ident,
                    sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in cols),
                )
            )
            out_q = sql.SQL("copy (select * from {}.{}) to stdout").format(
                sql.Identifier("crm"), sql.Identifier(table)
            )
            in_q = sql.SQL("copy {} from stdin").format(ident)
            with src.cursor().copy(out_q) as reader, dst.cursor().copy(in_q) as writer:
                for chunk in reader:
                    writer.write(chunk)
            rows += dst.execute(sql.SQL("select count(*) from {}").format(ident)).fetchone()[0]
        dst.commit()
    return rows


BASELINE_TRANSFORM = """
create table bench_baseline.rep_monthly as
select
    owner_id as rep_id,
    date_trunc('month', closed_at) as month_start,
    sum(amount) filter (where is_won) as revenue,
    count(*) filter (where is_won) as won_count,
    count(*) filter (where is_won)::numeric / nullif(count(*) filter (where is_closed), 0) as win_rate
from raw.opportunities
where _deleted_at is null and is_closed
group by 1, 2
"""


def run(size: str = "small", seed: int = 42, out_dir: Path | None = None) -> BenchResult:
    from salesperf import dbt as dbt_runner
    from salesperf import extract
    from salesperf.sources import demo_crm

    server = wh.resolve()
    name = f"{server.dbname}_bench_{size}"
    for suffix in ("", "_democrm"):
        wh.drop_database(server, name + suffix)
    target = wh.create_database(server, name)
    os.environ.update(target.env())  # every component resolves this warehouse now
    with wh.connect(target) as conn:
        result = BenchResult(size, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                             machine_info(conn))  # fmt: skip
    out_dir = out_dir or config.LOCAL_DIR / "bench"
    # The run's working files (dbt's target and logs, GX, the rendered e-mails), kept for
    # reading until the next run of the same size replaces them: never left behind in /tmp.
    work = out_dir / f"work-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dbt_paths = {"target_path": work / "dbt_target", "log_path": work / "dbt_logs"}

    with measure(result, "generate_demo_crm") as st:
        crm_url = demo_crm.create(size=size, seed=seed, warehouse=target)
        crm = wh.Warehouse(crm_url, "bench")
        with wh.connect(crm) as c:
            st.rows = _live_rows(c, "crm")
    with wh.connect(crm) as c:
        crm_tables = [
            r[0] for r in c.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'crm' and table_type = 'BASE TABLE' order by 1"
            )
        ]  # fmt: skip

    with measure(result, "baseline_plain_copy") as st:
        st.rows = baseline_copy(crm, target, crm_tables)
        st.note = "COPY of the same source tables into unindexed tables"
    with wh.connect(target, autocommit=True) as c:
        c.execute("drop schema bench_baseline cascade")

    with measure(result, "extract_load") as st:
        counts = extract.run_extract("demo_crm", warehouse=target)
        st.rows = sum(int(c.get("rows_in", 0)) for c in counts.values())
        st.note = (
            "first load: binary COPY from the CRM into landing, primary key built after, ANALYZE"
        )

    with measure(result, "dbt_full_build") as st, _parse_seen(st, dbt_paths):
        dbt_runner.transform(target, full_refresh=True, vars_yaml=DBT_VARS, **dbt_paths)
        with wh.connect(target) as c:
            st.rows = _live_rows(c, "raw")
        st.note = "dbt build --full-refresh (seeds, snapshots, models, tests); rows = landing rows"
        st.detail["slowest_nodes"] = _slowest_dbt_nodes(dbt_paths["target_path"])

    # The same build again. A warehouse's first build also creates, once, the landing
    # indexes that the models' pre-hooks keep (about 23 s of 141 on medium): a full refresh
    # of a running warehouse costs this second figure, and the budgets compare with it.
    with measure(result, "dbt_full_rebuild") as st, _parse_seen(st, dbt_paths):
        dbt_runner.transform(target, full_refresh=True, vars_yaml=DBT_VARS, **dbt_paths)
        with wh.connect(target) as c:
            st.rows = _live_rows(c, "raw")
        st.note = (
            "the same dbt build --full-refresh again, the landing indexes in place: "
            "the full build the budgets compare with; rows = landing rows"
        )
        st.detail["slowest_nodes"] = _slowest_dbt_nodes(dbt_paths["target_path"])

    # The GX project a deployment starts from: the repository's (datasource, assets, suites,
    # validation definitions, checkpoints), without its uncommitted/ results. Whether a run
    # reads whole tables is decided from the warehouse's own history, not from this folder.
    gx_root, docs_dir = work / "gx", work / "docs"
    shutil.copytree(
        gx_context.default_root() / "gx", gx_root / "gx",
        ignore=shutil.ignore_patterns("uncommitted"),
    )  # fmt: skip
    with measure(result, "validation_whole_tables") as st:
        _validate(st, target, gx_root, docs_dir, "first run after the full build: every row")

    with wh.connect(target, autocommit=True) as c:
        c.execute("create schema if not exists bench_baseline")
    with measure(result, "baseline_sql_transform") as st:
        with wh.connect(target) as c:
            c.execute(BASELINE_TRANSFORM)
            st.rows = c.execute(
                "select count(*) from raw.opportunities where _deleted_at is null"
            ).fetchone()[0]
            c.commit()
        st.note = "one SQL statement: monthly revenue, won count, win rate per rep"
    with wh.connect(target, autocommit=True) as c:
        c.execute("drop schema bench_baseline cascade")

    # The daily run (its look-back: see DBT_VARS)
    with measure(result, "source_advance_1_day") as st:
        advanced = sum(demo_crm.advance(days=1, warehouse=target).values())
        st.rows = advanced
        st.note = "demo-crm advance --days 1: the CRM's own day of work (not the pipeline)"

    with measure(result, "incremental_daily_run") as st, _parse_seen(st, dbt_paths):
        st.rows, st.detail = _incremental_run(target, dbt_paths)
        st.note = (
            f"incremental extract + dbt build after one day of {advanced:,} source changes: "
            f"{_parts_note(st.detail)} (rows = rows extracted; look-back 0, see bench.py)"
        )

    # The same run again with nothing changed at the source: what a daily run costs
    # whatever the day brought (fixed costs, and the models and tests that read whole
    # tables). Reported beside the daily run; no budget of its own.
    with measure(result, "incremental_run_no_changes") as st, _parse_seen(st, dbt_paths):
        _read, st.detail = _incremental_run(target, dbt_paths)
        with wh.connect(target) as c:
            st.rows = _live_rows(c, "raw")
        st.note = (
            f"the same run with no source change ({st.detail['rows_landed']:,} rows landed): "
            f"{_parts_note(st.detail)} (rows = landing rows)"
        )

    with measure(result, "validation_daily") as st:
        _validate(
            st, target, gx_root, docs_dir,
            "after the daily run: landing rows written since the last run, marts whole",
        )  # fmt: skip

    with measure(result, "render_monthly_emails") as st:
        from salesperf.reports import run as reports

        period = f"{demo_crm.DEFAULT_AS_OF:%Y-%m}"
        with wh.connect(target) as c:
            n = 0
            for kind in ("monthly_appraisal", "team_report"):
                r = reports.run(c, kind, period, dry_run_dir=work / "eml" / kind)
                n += r.written or r.built
        st.rows = n
        st.note = f"monthly appraisal + team report for {period}, dry run (.eml)"

    # What dbt itself costs: the same daily build on a warehouse with no rows, built once
    # beforehand (not timed). Reported beside the daily run, no budget.
    empty, empty_paths = _empty_warehouse(server, name + "_empty", work)
    try:
        with measure(result, "baseline_dbt_empty_warehouse") as st:
            dbt_runner.transform(empty, vars_yaml=DBT_VARS, **empty_paths)
            st.detail = {
                "nodes": len(_run_results(empty_paths["target_path"])),
                "dbt_node_seconds": _dbt_node_seconds(empty_paths["target_path"]),
            }
            st.note = (
                "the daily dbt build on a warehouse with no rows at all: every node still runs "
                f"({st.detail['nodes']} nodes: dbt's start, each model's materialization and "
                "hooks, each test), so no daily build of this project costs less"
            )
    finally:
        wh.drop_database(server, empty.dbname)

    _verdicts(result)
    _write(result, out_dir)
    return result


def _empty_warehouse(server: wh.Warehouse, dbname: str, work: Path) -> tuple[wh.Warehouse, dict]:
    """A new warehouse with empty landing tables, built once by dbt (seeds, snapshots,
    models, tests) with the bench's vars, so that its next ``dbt build`` is a daily one:
    incremental, seeds left out, the project's parse reused."""
    from salesperf import dbt as dbt_runner
    from salesperf.landing.migrations import migrate

    empty = wh.create_database(server, dbname, drop_first=True)
    with wh.connect(empty) as conn:
        migrate(conn)
        conn.commit()
    paths = {"target_path": work / "dbt_target_empty", "log_path": work / "dbt_logs_empty"}
    dbt_runner.transform(empty, full_refresh=True, vars_yaml=DBT_VARS, **paths)
    return empty, paths


def _run_results(target_path: Path) -> list[dict]:
    """The node results of the last dbt invocation with this target path."""
    return json.loads((Path(target_path) / "run_results.json").read_text())["results"]


def _incremental_run(target: wh.Warehouse, dbt_paths: dict) -> tuple[int, dict]:
    """The daily run as the pipeline does it: incremental extract, then ``dbt build``.
    Returns the rows extracted and where the time went."""
    from salesperf import dbt as dbt_runner
    from salesperf import extract

    started = time.perf_counter()
    counts = extract.run_extract("demo_crm", warehouse=target)
    extracted_s = time.perf_counter() - started
    dbt_runner.transform(target, vars_yaml=DBT_VARS, **dbt_paths)
    detail = {
        # landing rows the merge wrote (read rows include the extract's look-back window)
        "rows_landed": sum(
            int(c.get(k, 0)) for c in counts.values() for k in ("inserted", "updated", "deleted")
        ),
        "extract_seconds": round(extracted_s, 2),
        "dbt_seconds": round(time.perf_counter() - started - extracted_s, 2),
        "dbt_node_seconds": _dbt_node_seconds(dbt_paths["target_path"]),
        "slowest_nodes": _slowest_dbt_nodes(dbt_paths["target_path"]),
    }
    return sum(int(c.get("rows_in", 0)) for c in counts.values()), detail


@contextmanager
def _parse_seen(stage: Stage, dbt_paths: dict):
    """Record in ``stage.detail["full_parse"]`` whether dbt parsed every file of the
    project during the stage (its log says why it could not reuse the last parse) or
    reused its partial-parse state, as a pipeline's runs with unchanged files and vars do."""
    log_file = Path(dbt_paths["log_path"]) / "dbt.log"
    start = log_file.stat().st_size if log_file.exists() else 0
    yield
    with log_file.open("rb") as fh:
        fh.seek(start)
        stage.detail["full_parse"] = b"Unable to do partial parsing" in fh.read()


def _parts_note(detail: dict) -> str:
    nodes = detail["dbt_node_seconds"]
    return (
        f"extract {detail['extract_seconds']:.1f} s, dbt {detail['dbt_seconds']:.1f} s "
        f"(node time: table models {nodes.get('table', 0):.1f} s, incremental "
        f"{nodes.get('incremental', 0):.1f} s, data tests {nodes.get('test', 0):.1f} s)"
    )


def _validate(st: Stage, target: wh.Warehouse, gx_root: Path, docs_dir: Path, what: str) -> None:
    """Both layers as the pipeline validates them (landing incrementally once a suite has a
    good run in ``gx_root``); rows = mart rows."""
    from salesperf.validation.runner import run_layer

    landing = run_layer("landing", warehouse=target, gx_root=gx_root, docs_dir=docs_dir)
    marts = run_layer("marts", warehouse=target, gx_root=gx_root, docs_dir=docs_dir)
    with wh.connect(target) as c:
        st.rows = _live_rows(c, "marts")
    modes = {s.mode or "full" for s in landing.suites}
    st.note = (
        f"{what}; landing {'passed' if landing.success else 'FAILED'} "
        f"({', '.join(sorted(modes))}), marts {'passed' if marts.success else 'FAILED'}; "
        "rows = mart rows"
    )


def _slowest_dbt_nodes(target_path: Path, top: int = 12) -> dict[str, float]:
    """The ``top`` slowest nodes of the last dbt invocation (from its run_results.json)."""
    if not (Path(target_path) / "run_results.json").exists():
        return {}
    results = _run_results(target_path)
    timed = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:top]
    return {r["unique_id"]: round(r.get("execution_time") or 0, 2) for r in timed}


def _dbt_node_seconds(target_path: Path) -> dict[str, float]:
    """Node time of the last dbt invocation per kind: models by materialization (table,
    incremental, view), test, seed, snapshot. Threads overlap, so the sum exceeds the
    wall time; it says where the work is."""
    target_path = Path(target_path)
    try:
        results = _run_results(target_path)
        nodes = json.loads((target_path / "manifest.json").read_text())["nodes"]
    except (OSError, ValueError, KeyError):
        return {}
    seconds: dict[str, float] = {}
    for r in results:
        node = nodes.get(r["unique_id"])
        if node is None:
            continue
        kind = node["resource_type"]
        if kind == "model":
            kind = node["config"]["materialized"]
        seconds[kind] = seconds.get(kind, 0.0) + (r.get("execution_time") or 0.0)
    return {k: round(v, 2) for k, v in sorted(seconds.items())}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _verdicts(result: BenchResult) -> None:
    s = result.stage
    names = {st.name for st in result.stages}
    # the full build of a running warehouse (see run()); the first build where there is none
    full = s("dbt_full_rebuild" if "dbt_full_rebuild" in names else "dbt_full_build").seconds
    values: dict[str, float | None] = {
        "load_vs_copy": _ratio(s("extract_load").rows_per_s, s("baseline_plain_copy").rows_per_s),
        "incremental_vs_full": _ratio(s("incremental_daily_run").seconds, full),
        "validation_vs_full": _ratio(s("validation_whole_tables").seconds, full),
        "daily_validation_vs_full": _ratio(s("validation_daily").seconds, full),
        "peak_rss_mb": max(st.largest_process_rss_mb for st in result.stages),
        "emails_per_s": s("render_monthly_emails").rows_per_s,
        # reported, no budget
        "transform_vs_sql_baseline": _ratio(full, s("baseline_sql_transform").seconds),
        "no_change_run_vs_full": (
            _ratio(s("incremental_run_no_changes").seconds, full)
            if "incremental_run_no_changes" in names
            else None
        ),
        "first_build_vs_full": (
            _ratio(s("dbt_full_build").seconds, full) if "dbt_full_rebuild" in names else None
        ),
        "empty_warehouse_build_vs_full": (
            _ratio(s("baseline_dbt_empty_warehouse").seconds, full)
            if "baseline_dbt_empty_warehouse" in names
            else None
        ),
    }
    for key, value in values.items():
        if value is None:
            continue
        result.ratios[key] = round(value, 3)
        if key in BUDGETS:
            result.verdicts[key] = "met" if within_budget(key, value) else "MISSED"


def _write(result: BenchResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = result.started_at.replace(":", "").replace("-", "")
    base = out_dir / f"bench-{result.size}-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(result.to_json(), indent=2))
    base.with_suffix(".md").write_text(result.to_markdown())
    (out_dir / f"latest-{result.size}.json").write_text(json.dumps(result.to_json(), indent=2))
    (out_dir / f"latest-{result.size}.md").write_text(result.to_markdown())
