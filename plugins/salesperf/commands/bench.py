"""`salesperf bench --size small|medium|large` (make bench): per-stage figures and baselines."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark every stage against plain-PostgreSQL baselines")
    p.add_argument("--size", default="small", choices=["small", "medium", "large"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=None, help="folder for JSON and Markdown results")
    p.set_defaults(func=_bench)


def _bench(args) -> int:
    from salesperf import bench, config

    result = bench.run(args.size, args.seed, args.out)
    print(result.to_markdown())
    print(f"results: {(args.out or config.LOCAL_DIR / 'bench')}/latest-{args.size}.json|.md")
    return 0
