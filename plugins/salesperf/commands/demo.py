"""`salesperf demo`: the main job, end to end, on the embedded default.

demo CRM -> extract -> dbt -> validation -> emails, each stage run for real through
Airflow (`airflow dags test`), then a summary of what was built and where to look.
Running it again is quick and idempotent: the demo CRM is only created once, extracts
merge by key, dbt rebuilds, and the outbox never sends the same email twice.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from salesperf import config

# The pipeline in order: (dag_id, logical date or None for "now"). The report DAGs run at
# the first schedule after the demo CRM's as-of date, so they report its last full period.
PIPELINE = [
    ("extract_crm", None),
    ("transform_sales_marts", None),
    ("send_reward_notifications", None),
    ("send_pacing_alerts", None),
    ("send_monthly_appraisals", "{next_month_start}T09:00:00"),
    ("send_weekly_feedback", "{next_monday}T09:00:00"),
    ("send_quarterly_review", "{quarter_start}T09:00:00"),
]


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on the embedded demo (make demo)")
    p.add_argument("--size", default="small", choices=["small", "medium", "large"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--recreate", action="store_true", help="drop and regenerate the demo CRM")
    p.add_argument(
        "--only", nargs="*", default=None, help="run only these DAG ids (default: all present)"
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="run the transform even when the extract changed no landing row",
    )
    p.set_defaults(func=run)


def _say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def _demo_dates() -> dict[str, str]:
    import datetime as dt

    as_of = demo_as_of()
    next_month = (as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    next_monday = as_of + dt.timedelta(days=(7 - as_of.weekday()) % 7 or 7)
    # The quarterly review goes out on the first day of a quarter, for the quarter before:
    # the run on or before the as-of date reports the last complete quarter.
    quarter_start = dt.date(as_of.year, (as_of.month - 1) // 3 * 3 + 1, 1)
    return {
        "next_month_start": next_month.isoformat(),
        "next_monday": next_monday.isoformat(),
        "quarter_start": quarter_start.isoformat(),
    }


def demo_as_of():
    """The demo CRM's as-of date (its "today"), from the generator when present."""
    import datetime as dt

    try:
        from salesperf.sources import demo_crm

        value = getattr(demo_crm, "DEFAULT_AS_OF", None)
        if value:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ImportError:
        pass
    return dt.date(2026, 10, 31)


def run(args) -> int:
    from salesperf import airflow_env, mailcatcher, warehouse
    from salesperf.cli import UserError
    from salesperf.landing.migrations import migrate

    started = time.monotonic()
    wh = warehouse.resolve()
    _say(f"warehouse: {wh.describe()} (from {wh.origin})")
    with warehouse.connect(wh) as conn:
        migrate(conn)

    host, port, mail_dir = mailcatcher.ensure_running()
    os.environ["SALESPERF_SMTP_HOST"], os.environ["SALESPERF_SMTP_PORT"] = host, str(port)
    _say(f"mail catcher: smtp://{host}:{port} -> {mail_dir}")

    env = airflow_env.environment(wh)
    # `airflow dags test` waits out retry delays: keep retries, make them quick here.
    env.setdefault(
        "SALESPERF_RETRY_DELAY_SECONDS", os.environ.get("SALESPERF_RETRY_DELAY_SECONDS", "3")
    )
    os.environ.update(env)
    _say(f"Airflow metadata: {wh.with_database(airflow_env.metadata_db_name(wh)).describe()}")
    airflow_env.migrate_metadata(env)

    _create_demo_crm(wh, args)

    if (config.DAGS_DIR / "transform_sales_marts.py").exists():
        from salesperf.dbt import refresh_manifest

        refresh_manifest()  # the transform DAG renders its dbt tasks from this manifest

    dates = _demo_dates()
    present = {p.stem for p in config.DAGS_DIR.glob("*.py")}
    failed: list[str] = []
    with warehouse.connect(wh) as conn:
        run_started = conn.execute("select now()").fetchone()[0]
    for dag_id, when in PIPELINE:
        if args.only is not None and dag_id not in args.only:
            continue
        if dag_id not in present:
            _say(f"{dag_id}: not part of this build yet, skipped")
            continue
        if (
            dag_id == "transform_sales_marts"
            and not args.rebuild
            and _marts_current(wh, run_started)
        ):
            _say(
                "transform_sales_marts: not triggered, as in production: the extract changed no "
                "landing row, so the landing Asset was not published and the validated marts "
                "are current (--rebuild forces it)"
            )
            continue
        logical = when.format(**dates) if when else None
        _say(f"airflow dags test {dag_id}" + (f" {logical}" if logical else ""))
        t0 = time.monotonic()
        cmd = ["dags", "test", dag_id] + ([logical] if logical else [])
        log_path = config.LOCAL_DIR / "logs" / f"{dag_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            proc = airflow_env.run_airflow(cmd, env, stdout=log, stderr=log)
        state = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"    {state} in {time.monotonic() - t0:.0f}s, log: {log_path}", flush=True)
        if proc.returncode != 0:
            failed.append(dag_id)
            print(_tail(log_path), file=sys.stderr)
            if dag_id in ("extract_crm", "transform_sales_marts"):
                break  # later stages depend on these

    _summary(wh, mail_dir)
    print("\nAirflow UI: run `make airflow`, then open http://localhost:8080 (see README)")
    print(f"Done in {time.monotonic() - started:.0f}s.")
    if failed:
        raise UserError(
            f"demo stages failed: {', '.join(failed)} (logs in {config.LOCAL_DIR / 'logs'})"
        )
    return 0


def _create_demo_crm(wh, args) -> None:
    try:
        from salesperf.sources import demo_crm
    except ImportError:
        _say("demo CRM generator not available in this build; skipped")
        return
    target = demo_crm.crm_warehouse(wh)
    if not args.recreate and _crm_exists(target):
        _say(f"demo CRM already at {target.describe()} (use --recreate to regenerate)")
        return
    t0 = time.monotonic()
    demo_crm.create(size=args.size, seed=args.seed, warehouse=wh)
    _say(
        f"demo CRM ({args.size}, seed {args.seed}) created in {time.monotonic() - t0:.0f}s "
        f"at {target.describe()}"
    )


def _crm_exists(target) -> bool:
    from salesperf import warehouse

    try:
        with warehouse.connect(target) as conn:
            return bool(
                conn.execute(
                    "select 1 from information_schema.tables "
                    "where table_schema = 'crm' and table_name = 'opportunities'"
                ).fetchone()
            )
    except warehouse.WarehouseError:
        return False


def _marts_current(wh, since) -> bool:
    """True when this run's extract changed nothing and the marts were built and validated
    from the dbt project as it is now (no model, seed, macro or test changed since)."""
    from salesperf import dbt, warehouse
    from salesperf.extract import changed_since
    from salesperf.reports.data import NotValidatedError, require_validated

    with warehouse.connect(wh) as conn:
        if changed_since(conn, since):
            return False
        try:
            require_validated(conn)
        except NotValidatedError:
            return False
        (validated,) = conn.execute(
            "select extract(epoch from max(started_at)) from ops.validation_runs "
            "where layer in ('marts', 'mart')"
        ).fetchone()
    if float(validated) < dbt.project_mtime():
        _say("the dbt project changed since the marts were last validated: rebuilding them")
        return False
    return True


def _tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(errors="replace").splitlines()
    errors = [ln for ln in text if "ERROR" in ln or "Error" in ln or "Traceback" in ln]
    return "\n".join((errors or text)[-lines:])


def _summary(wh, mail_dir: Path) -> None:
    from salesperf import warehouse

    with warehouse.connect(wh) as conn:
        print("\nLanding rows (raw.*, live):")
        for (table,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "order by table_name"
        ).fetchall():
            n = conn.execute(
                f'select count(*) from raw."{table}" where _deleted_at is null'  # noqa: S608
            ).fetchone()[0]
            print(f"  raw.{table:<28} {n:>9,}")
        quarantined = conn.execute("select count(*) from ops.quarantine").fetchone()[0]
        print(f"  quarantined rows: {quarantined:,}")

        from salesperf.dbt import mart_row_counts

        marts = mart_row_counts(wh)
        print("\nMarts (schema marts):" if marts else "\nMarts: none built")
        for table, n in marts.items():
            print(f"  marts.{table:<32} {n:>9,}")

        runs = conn.execute(
            "select distinct on (suite) suite, layer, success, evaluated, failed, data_docs "
            "from ops.validation_runs order by suite, started_at desc"
        ).fetchall()
        print("\nValidation (latest run per suite):" if runs else "\nValidation: no runs recorded")
        for suite, layer, ok, evaluated, nfailed, _link in runs:
            print(
                f"  {layer:<8} {suite:<36} {'passed' if ok else 'FAILED'} "
                f"({evaluated - nfailed}/{evaluated} expectations)"
            )
        if runs:
            from salesperf.validation.gx_context import data_docs_dir

            index = data_docs_dir() / "index.html"
            print(f"  Data Docs: {index.as_uri() if index.exists() else 'not built'}")

        sent = conn.execute(
            "select kind, status, count(*) from ops.email_outbox group by kind, status order by 1, 2"
        ).fetchall()
        print("\nEmails (ops.email_outbox):" if sent else "\nEmails: none in the outbox")
        for kind, status, n in sent:
            print(f"  {kind:<28} {status:<8} {n:>6}")
    n_files = len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0
    print(f"\nDelivered mail: {n_files} .eml files in {mail_dir}")
