"""`salesperf validate --layer landing|marts|all`: run the GX suites against the warehouse."""

from __future__ import annotations

from salesperf.cli import UserError


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="validate landing tables and/or marts with Great Expectations",
        description="Runs the suites of a layer (SQL pushdown), records each in "
        "ops.validation_runs, updates Data Docs and exits 1 when a suite fails.",
    )
    p.add_argument("--layer", choices=["landing", "marts", "all"], default="all")
    p.add_argument("--run-id", help="run id recorded in ops.validation_runs (default: generated)")
    p.add_argument(
        "--full",
        action="store_true",
        help="read every landing row (default: each landing suite reads the rows written "
        "since its last good run; SALESPERF_DQ_FULL=1 does the same as this flag)",
    )
    p.add_argument(
        "--alert",
        action="store_true",
        help="on failure, send the data-quality alert to the data team (SALESPERF_DATA_TEAM_EMAILS)",
    )
    p.set_defaults(func=_validate)


def _validate(args) -> int:
    from salesperf.validation import run_layer

    layers = ["landing", "marts"] if args.layer == "all" else [args.layer]
    ok = True
    for layer in layers:
        run_id = f"{args.run_id}-{layer}" if args.run_id and len(layers) > 1 else args.run_id
        try:
            result = run_layer(layer, run_id=run_id, full=True if args.full else None)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        for s in result.suites:
            status = "ok  " if s.success else "FAIL"
            print(
                f"{status} {s.suite:<40} {s.successful}/{s.evaluated} expectations"
                + (f" ({s.mode})" if s.mode else "")
            )
            if s.details.get("error"):
                print(f"     {s.details['error']}")
            for f in s.failures[:10]:
                print(f"     - {f['rule']}" + (f": {f['error']}" if f.get("error") else ""))
        print(result.summary())
        if result.data_docs_index:
            print(f"Data Docs: {result.data_docs_index}")
        if not result.success:
            ok = False
            if args.alert:
                from salesperf.validation.alert import send_alert

                print(send_alert(result))
    return 0 if ok else 1
