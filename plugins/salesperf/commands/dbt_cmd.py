"""`salesperf dbt <args>` and `salesperf transform`: dbt with the resolved warehouse."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "dbt",
        help="run dbt in the project with the resolved warehouse (e.g. salesperf dbt build)",
        description="Everything after `dbt` is passed to dbt unchanged.",
    )
    p.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt arguments")
    p.set_defaults(func=_dbt)

    t = sub.add_parser(
        "transform", help="build the marts: seeds, snapshots, models and tests (dbt build)"
    )
    t.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    t.add_argument(
        "--vars", default=None, help="dbt --vars YAML, e.g. \"{as_of_date: '2026-06-30'}\""
    )
    t.set_defaults(func=_transform)

    m = sub.add_parser(
        "dbt-manifest", help="refresh the dbt manifest the transform DAG renders from"
    )
    m.set_defaults(func=_manifest)


def _manifest(args) -> int:
    from salesperf.dbt import refresh_manifest

    print(refresh_manifest())
    return 0


def _dbt(args) -> int:
    from salesperf.cli import UserError
    from salesperf.dbt import run_dbt

    if not args.dbt_args:
        raise UserError("give dbt arguments, e.g. `salesperf dbt build`")
    return run_dbt(list(args.dbt_args), check=False, capture=False).returncode


def _transform(args) -> int:
    import time

    from salesperf.cli import UserError
    from salesperf.dbt import DbtError, mart_row_counts, transform
    from salesperf.warehouse import resolve

    wh = resolve()
    started = time.monotonic()
    try:
        transform(wh, full_refresh=args.full_refresh, vars_yaml=args.vars, capture=False)
    except DbtError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    print(f"marts built in {time.monotonic() - started:.1f}s at {wh.describe()}")
    for table, rows in mart_row_counts(wh).items():
        print(f"  marts.{table:<32} {rows:>10}")
    return 0
