"""`salesperf extract`: incremental extract of a CRM source into the landing tables."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("extract", help="extract CRM data into raw.* (incremental)")
    p.add_argument("--source", default="demo_crm")
    p.add_argument("--entity", action="append", help="only this entity (repeatable)")
    p.set_defaults(func=_extract)


def _extract(args) -> int:
    from salesperf import extract
    from salesperf.cli import UserError

    try:
        extract.plan(args.source, args.entity)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    results = extract.run_extract(args.source, args.entity)
    width = max(len(e) for e in results)
    print(f"{'entity':<{width}}  {'read':>9} {'inserted':>9} {'updated':>9} {'deleted':>8}")
    for entity, c in results.items():
        print(
            f"{entity:<{width}}  {c['rows_in']:>9} {c['inserted']:>9} {c['updated']:>9} {c['deleted']:>8}"
        )
    return 0
