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
    batch_relation: str  # what GX reads: the table itself, or a view of its live rows
    build: Callable  # build(context) -> ExpectationSuite
    batch_view_sql: str | None = None  # the view's definition, created before each run


def landing(entity: str, build: Callable) -> SuiteSpec:
    from expectations.landing_common import live_rows_query, live_rows_view

    return SuiteSpec(
        f"landing.{entity}",
        "landing",
        f"raw.{entity}",
        live_rows_view(entity),
        build,
        live_rows_query(entity),
    )


def mart(table: str, build: Callable) -> SuiteSpec:
    from expectations._rules import ident

    ident(table)
    return SuiteSpec(f"marts.{table}", "marts", f"marts.{table}", f"marts.{table}", build)


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
