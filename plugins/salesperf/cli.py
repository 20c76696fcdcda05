"""The `salesperf` command.

Subcommands live in ``salesperf.commands.<name>`` modules, each exposing
``register(subparsers)``; they are discovered here, so adding a command never edits this
file. Expected errors (unreachable warehouse, bad input) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import warnings

warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")


class UserError(RuntimeError):
    """An error caused by input or environment; shown as one line, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    from salesperf import commands

    parser = argparse.ArgumentParser(
        prog="salesperf",
        description="Sales-performance data platform: extract, transform, validate, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"salesperf.commands.{mod.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from salesperf.warehouse import WarehouseError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("great_expectations", "cosmos", "urllib3", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = args.func(args)
    except (WarehouseError, UserError, FileNotFoundError) as exc:
        print(f"salesperf: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
