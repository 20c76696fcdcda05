"""`salesperf bench-import --rows N`: file-import throughput vs a plain COPY of the same CSV.

Writes a CSV of N rows shaped like Maven's ``sales_pipeline.csv`` (the shared data set's
rows repeated with new ids), creates a scratch database on the warehouse's server (dropped
afterwards), and measures in the same run:

1. plain COPY: the CSV streamed with ``COPY ... (format csv)`` into an unindexed text table;
2. the file source: ``import_dir`` with the shipped ``maven_crm`` mapping (decode, type every
   value per entity column, quarantine checks, COPY into a temp table, merge by key, batch
   bookkeeping, one transaction).
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from pathlib import Path

from salesperf import config


def register(sub) -> None:
    p = sub.add_parser("bench-import", help="measure file-import throughput vs plain COPY")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument(
        "--sample",
        default=os.path.join(
            os.environ.get("SALESPERF_SHARED_DATA", config.PROJECT_ROOT.parent / "shared" / "data"),
            "maven_crm",
        ),
        help="folder with Maven's sales_pipeline.csv (default ../shared/data/maven_crm)",
    )
    p.set_defaults(func=_bench)


def _bench(args) -> int:
    from salesperf import warehouse as wh
    from salesperf.cli import UserError
    from salesperf.landing.migrations import migrate
    from salesperf.sources.files import import_dir

    sample = Path(args.sample) / "sales_pipeline.csv"
    if not sample.is_file():
        raise UserError(f"{sample} not found (use --sample)")
    with sample.open(newline="", encoding="utf-8") as fh:
        header, *data = list(csv.reader(fh))
    server = wh.resolve()
    name = f"{server.dbname}_bench_import"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sales_pipeline_bench.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for i in range(args.rows):
                row = list(data[i % len(data)])
                row[0] = f"{row[0]}-{i}"
                w.writerow(row)
        db = wh.create_database(server, name, drop_first=True)
        try:
            with wh.connect(db, autocommit=True) as conn:
                migrate(conn)
                cols = ", ".join(f'"{h}" text' for h in header)
                conn.execute(f"create table plain_copy ({cols})")  # noqa: S608 - fixed header
                t = time.perf_counter()
                with (
                    conn.cursor().copy(
                        "copy plain_copy from stdin (format csv, header true)"
                    ) as cp,
                    path.open("rb") as fh,
                ):
                    while chunk := fh.read(1 << 20):
                        cp.write(chunk)
                plain = time.perf_counter() - t
            t = time.perf_counter()
            report = import_dir("maven_crm", Path(tmp), db, archive=False)
            source = time.perf_counter() - t
        finally:
            wh.drop_database(server, name)
    n = args.rows
    print(f"plain COPY:  {n:,} rows in {plain:.2f}s = {n / plain:,.0f} rows/s")
    print(f"file import: {n:,} rows in {source:.2f}s = {n / source:,.0f} rows/s "
          f"(quarantined {report.quarantined})")  # fmt: skip
    print(f"ratio file import / plain COPY: {plain / source:.2f}")
    return 0
