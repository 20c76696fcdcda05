"""`salesperf send` (report emails through the outbox) and `salesperf preview`."""

from __future__ import annotations

import os

from salesperf import config


def register(sub) -> None:
    from salesperf.reports import KINDS

    s = sub.add_parser(
        "send",
        help="render and send one kind of report email (idempotent; --dry-run writes .eml)",
        description="Periods: YYYY-MM (monthly_appraisal, team_report, reward, pacing), "
        "YYYY-MM-DD or YYYY-Www (weekly: that week), YYYY-Qn or YYYY-MM (quarterly). "
        "reward and pacing without --period take the latest data.",
    )
    s.add_argument("--kind", required=True, choices=[*KINDS, "outbox"],
                   help="report kind; 'outbox' only retries what is pending")  # fmt: skip
    s.add_argument("--period", default=None)
    s.add_argument("--dry-run", action="store_true", help="write .eml files, send nothing")
    s.add_argument("--out", default=None, help="dry-run folder (default .local/dry-run/<kind>)")
    s.add_argument("--skip-validation-check", action="store_true",
                   help="send even if no passed marts validation is recorded")  # fmt: skip
    s.set_defaults(func=_send)

    p = sub.add_parser("preview", help="one rep and one manager email of the demo as HTML + PNG")
    p.add_argument("--period", default=None, help="YYYY-MM (default: latest closed month)")
    p.add_argument("--out", default=None, help="folder (default .local/preview)")
    p.add_argument("--no-png", action="store_true", help="skip the Chromium screenshots")
    p.set_defaults(func=_preview)


def _smtp():
    from salesperf import airflow_env
    from salesperf.reports import outbox

    uri = os.environ.get("AIRFLOW_CONN_SMTP_DEFAULT") or airflow_env.smtp_conn_uri()
    return outbox.SmtpSettings.from_uri(uri)


def _send(args) -> int:
    from salesperf import warehouse
    from salesperf.cli import UserError
    from salesperf.landing.migrations import migrate
    from salesperf.reports import data, outbox
    from salesperf.reports.run import run

    needs_period = args.kind in ("monthly_appraisal", "team_report", "weekly", "quarterly")
    if needs_period and not args.period:
        raise UserError(f"--period is required for --kind {args.kind}")
    wh = warehouse.resolve()
    with warehouse.connect(wh, autocommit=True) as conn:
        migrate(conn)
        if args.kind == "outbox":
            if args.dry_run:
                raise UserError("--dry-run with --kind outbox: nothing to render")
            report = outbox.send_pending(conn, _smtp())
            print(f"outbox: {report.summary()}")
            return 0 if report.ok else 1
        out = None
        if args.dry_run:
            out = args.out or str(config.LOCAL_DIR / "dry-run" / args.kind)
        try:
            result = run(
                conn, args.kind, args.period, dry_run_dir=out,
                smtp=None if args.dry_run else _smtp(),
                require_validation=not (args.dry_run or args.skip_validation_check),
            )  # fmt: skip
        except (data.MissingMartError, data.NotValidatedError, ValueError, LookupError) as exc:
            raise UserError(str(exc)) from None
    print(result.summary())
    if out:
        print(f"dry run: .eml files in {out}")
    if result.send is not None and not result.send.ok:
        for err in result.send.errors[-5:]:
            print(f"  {err}")
        return 1
    return 0


def _preview(args) -> int:
    from salesperf import warehouse
    from salesperf.cli import UserError
    from salesperf.reports import data, preview

    wh = warehouse.resolve()
    with warehouse.connect(wh, autocommit=True) as conn:
        try:
            paths = preview.build_preview(conn, args.out, args.period, png=not args.no_png)
        except (data.MissingMartError, preview.PreviewError, ValueError) as exc:
            raise UserError(str(exc)) from None
    for p in paths:
        print(p)
    return 0
