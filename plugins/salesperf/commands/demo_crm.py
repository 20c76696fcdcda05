"""`salesperf demo-crm create|advance`: the deterministic demo CRM database."""

from __future__ import annotations

from datetime import date


def register(sub) -> None:
    p = sub.add_parser("demo-crm", help="create or advance the demo CRM database")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = actions.add_parser("create", help="(re)create the demo CRM for a size and seed")
    c.add_argument("--size", default="small", help="tiny, small, medium or large (default small)")
    c.add_argument("--seed", type=int, default=42)
    c.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="last day of history (YYYY-MM-DD)"
    )
    c.set_defaults(func=_create)
    a = actions.add_parser("advance", help="move the demo CRM forward by N days")
    a.add_argument("--days", type=int, default=1)
    a.set_defaults(func=_advance)


def _create(args) -> int:
    from salesperf.cli import UserError
    from salesperf.sources import demo_crm

    if args.size not in demo_crm.SIZES:
        raise UserError(f"unknown size {args.size!r}; choose from {', '.join(demo_crm.SIZES)}")
    url = demo_crm.create(args.size, args.seed, as_of=args.as_of or demo_crm.DEFAULT_AS_OF)
    print(
        f"demo CRM ({args.size}, seed {args.seed}) ready at {demo_crm.crm_warehouse().describe()}"
    )
    return 0 if url else 1


def _advance(args) -> int:
    from salesperf.cli import UserError
    from salesperf.sources import demo_crm

    if args.days < 1:
        raise UserError("--days must be at least 1")
    changes = demo_crm.advance(args.days)
    print(", ".join(f"{k}={v}" for k, v in changes.items()))
    return 0
