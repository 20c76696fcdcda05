"""`salesperf bench-load --rows N`: landing throughput of the CRM-database source vs plain COPY.

Builds a scratch CRM database with N opportunities and a scratch warehouse (both on the
warehouse's server, dropped afterwards unless ``--keep``), then, in the same run:

1. plain COPY: ``COPY (select ...) TO STDOUT`` from the CRM streamed into ``COPY ... FROM
   STDIN`` of an unindexed table holding the same columns;
2. the source: a full extract of ``opportunities`` through :func:`salesperf.extract.run_entity`
   (snapshot, COPY into a temp table, merge into ``raw.opportunities`` with its primary key,
   delete reconciliation, watermark and batch bookkeeping, one transaction);
3. an incremental rerun after 10% of the rows changed (merge path, for information).

Steps 1 and 2 alternate ``--repeat`` times; the best time of each counts.

Prints rows/s of each and the ratio source / plain COPY (the target is at least 0.5).
"""

from __future__ import annotations

import time


def register(sub) -> None:
    p = sub.add_parser("bench-load", help="measure landing throughput: CRM source vs plain COPY")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    p.add_argument("--keep", action="store_true", help="keep the scratch databases")
    p.set_defaults(func=_bench)


FILL_SQL = """
insert into crm.opportunities (id, name, account_id, owner_id, team_id, product, amount, currency,
    stage, probability, created_at, expected_close_date, closed_at, is_closed, is_won,
    lost_reason, lead_id, updated_at, is_deleted)
select g, 'Account ' || (g %% 50000) || ' - ' || p.product, g %% 50000 + 1, g %% 500 + 1, g %% 50 + 1,
    p.product, round((g %% 997) * 123.45 + 5000, 2), case when g %% 10 = 0 then 'USD' else 'CNY' end,
    s.stage, s.probability, c.created, (c.created + interval '60 days')::date,
    case when s.closed then c.created + interval '40 days' end, s.closed, s.stage = 'closed_won',
    case when s.stage = 'closed_lost' then 'price' end, case when g %% 5 < 3 then g end,
    c.created + interval '40 days', false
from generate_series(1, %(n)s) g
cross join lateral (select (array['CRM Cloud','Analytics Suite','Data Platform','Support Plus'])[g %% 4 + 1] as product) p
cross join lateral (
    select st as stage, pr as probability, st like 'closed%%' as closed
    from (values ('prospecting', 10), ('qualification', 20), ('proposal', 50),
                 ('negotiation', 75), ('closed_won', 100), ('closed_lost', 0)) v(st, pr)
    offset g %% 6 limit 1) s
cross join lateral (
    select timestamptz '2024-11-01 09:00+08' + (g %% 730) * interval '1 day'
           + (g %% 480) * interval '1 minute' as created) c
"""


def _bench(args) -> int:
    from salesperf import extract
    from salesperf import warehouse as wh
    from salesperf.landing import entities as E
    from salesperf.landing.migrations import migrate
    from salesperf.sources.crm_db import CrmDatabaseSource
    from salesperf.sources.demo_crm.generator import ddl

    base = wh.resolve()
    src_db = wh.create_database(base, f"{base.dbname}_bench_crm", drop_first=True)
    tgt_db = wh.create_database(base, f"{base.dbname}_bench_wh", drop_first=True)
    try:
        print(f"preparing {args.rows:,} opportunities in {src_db.describe()} ...", flush=True)
        with wh.connect(src_db) as conn:
            conn.execute(ddl())
            conn.execute(FILL_SQL, {"n": args.rows})
            conn.execute("create index on crm.opportunities (updated_at)")
            conn.execute("insert into crm.meta values ('instance_id', 'bench')")
            conn.commit()
        with wh.connect(src_db, autocommit=True) as conn:
            conn.execute("vacuum analyze crm.opportunities")
        with wh.connect(tgt_db) as conn:
            migrate(conn)
            cols = ", ".join(E.get("opportunities").column_names)
            conn.execute(
                f"create table public.plain_copy as select {cols}, _extra, _deleted_at "  # noqa: S608
                "from raw.opportunities with no data"
            )
            conn.commit()

        mapping = extract.get_source("demo_crm", tgt_db).mapping
        source = CrmDatabaseSource(
            "bench_crm", src_db, mapping, "select value from crm.meta where key = 'instance_id'"
        )
        extract.SOURCES["bench_crm"] = lambda _wh: source

        # Alternate the two and keep each one's best time: the machine may be shared.
        plain_times, source_times = [], []
        for i in range(args.repeat):
            if i:
                with wh.connect(tgt_db) as conn:
                    conn.execute("truncate public.plain_copy, raw.opportunities, ops.extract_state")
                    conn.commit()
            plain_times.append(_plain_copy(source, src_db, tgt_db))
            started = time.monotonic()
            counts = extract.run_entity("bench_crm", "opportunities", tgt_db)
            source_times.append(time.monotonic() - started)
            assert counts["inserted"] == args.rows, counts
        plain_s, source_s = min(plain_times), min(source_times)

        with wh.connect(src_db) as conn:
            conn.execute(
                "update crm.opportunities set amount = amount + 1, updated_at = "
                "(select max(updated_at) + interval '1 hour' from crm.opportunities) where id % 10 = 0"
            )
            conn.commit()
        started = time.monotonic()
        rerun = extract.run_entity("bench_crm", "opportunities", tgt_db)
        rerun_s = time.monotonic() - started

        n = args.rows
        print(f"plain COPY into an unindexed table : {n / plain_s:>12,.0f} rows/s ({plain_s:.1f}s)")
        print(
            f"CRM source, full extract + merge   : {n / source_s:>12,.0f} rows/s ({source_s:.1f}s)"
        )
        print(f"ratio source / plain COPY          : {plain_s / source_s:>12.2f} (target >= 0.50)")
        print(
            "all runs (s): plain "
            + " ".join(f"{t:.1f}" for t in plain_times)
            + " | source "
            + " ".join(f"{t:.1f}" for t in source_times)
        )
        print(
            f"incremental rerun, {rerun['updated']:,} of {n:,} rows changed: "
            f"{rerun_s:.1f}s ({rerun['rows_in'] / rerun_s:,.0f} changed rows/s)"
        )
    finally:
        if not args.keep:
            wh.drop_database(base, src_db.dbname)
            wh.drop_database(base, tgt_db.dbname)
    return 0


def _plain_copy(source, src_db, tgt_db) -> float:
    """Seconds to stream the same SELECT into an unindexed table with plain COPY."""
    from salesperf import warehouse as wh

    with wh.connect(src_db) as src, wh.connect(tgt_db) as tgt:
        src.execute("set timezone to 'UTC'")
        select = source.select_sql(src, "opportunities")
        started = time.monotonic()
        with src.cursor() as rc, tgt.cursor() as wc:
            with rc.copy(f"copy ({select}) to stdout") as out:
                with wc.copy("copy public.plain_copy from stdin") as into:
                    for chunk in out:
                        into.write(chunk)
        tgt.commit()
        return time.monotonic() - started
