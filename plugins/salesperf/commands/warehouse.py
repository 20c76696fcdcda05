"""`salesperf warehouse ...` and `salesperf stop`: the warehouse itself."""

from __future__ import annotations

from salesperf import warehouse


def register(sub) -> None:
    p = sub.add_parser("warehouse", help="show, start or migrate the warehouse")
    p.add_argument("action", choices=["url", "start", "migrate", "status"])
    p.set_defaults(func=_warehouse)

    s = sub.add_parser("stop", help="stop the embedded PostgreSQL (and local mail catcher)")
    s.set_defaults(func=_stop)


def _warehouse(args) -> int:
    if args.action == "status":
        wh = warehouse.resolve(start_embedded=False)
        running = warehouse.embedded_running() if wh.origin == "embedded" else None
        print(
            f"{wh.describe()} (from {wh.origin})"
            + ("" if running is None else f", running: {running}")
        )
        return 0
    wh = warehouse.resolve()
    if args.action == "url":
        print(wh.url)
    elif args.action == "start":
        print(f"warehouse ready at {wh.describe()} (from {wh.origin})")
    elif args.action == "migrate":
        from salesperf.landing.migrations import migrate

        with warehouse.connect(wh) as conn:
            applied = migrate(conn)
        print(f"migrations applied: {applied or 'none pending'}")
    return 0


def _stop(args) -> int:
    from salesperf import mailcatcher

    stopped_mail = mailcatcher.stop()
    stopped = warehouse.stop_embedded()
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    if stopped_mail:
        print("mail catcher stopped")
    return 0
