"""Every suite, by layer. A suite exists only for a table listed here: adding a mart means
adding its builder to a ``marts_*`` module's ``SUITES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LAYERS = ("landing", "marts")


@dataclass(frozen=True)
class SuiteSpec:
    name: str  # e.g. "landing.users", "marts.dim_reps"; also the GX asset and suite name
    layer: str  # "landing" | "marts"
    relation: str  # the table the suite checks, e.g. "raw.users"
    query: str  # the batch (pushed down as a sub-query)
    build: Callable  # build(context) -> ExpectationSuite


def landing(entity: str, build: Callable) -> SuiteSpec:
    from expectations.landing_common import live_rows_query

    return SuiteSpec(
        f"landing.{entity}", "landing", f"raw.{entity}", live_rows_query(entity), build
    )


def mart(table: str, build: Callable) -> SuiteSpec:
    from expectations._rules import ident

    ident(table)
    return SuiteSpec(
        f"marts.{table}",
        "marts",
        f"marts.{table}",
        f"select * from marts.{table}",  # noqa: S608
        build,
    )


def all_suites() -> list[SuiteSpec]:
    from expectations import (
        landing_customers,
        landing_org,
        landing_people_feedback,
        landing_pipeline,
    )

    modules = [landing_org, landing_customers, landing_pipeline, landing_people_feedback]
    modules += _mart_modules()
    specs = [s for m in modules for s in m.SUITES]
    names = [s.name for s in specs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"suite names listed twice: {sorted(dupes)}")
    return specs


def _mart_modules() -> list:
    import importlib
    import pkgutil

    import expectations

    return [
        importlib.import_module(f"expectations.{m.name}")
        for m in sorted(pkgutil.iter_modules(expectations.__path__), key=lambda m: m.name)
        if m.name.startswith("marts_")
    ]


def suites(layer: str) -> list[SuiteSpec]:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
    return [s for s in all_suites() if s.layer == layer]
