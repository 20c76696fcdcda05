"""The GX file data context of the project, synchronised with the suites in code.

The context lives in ``expectations/gx`` (``uncommitted/`` is git-ignored). Its
``great_expectations.yml`` holds only ``${...}`` placeholders for the warehouse URL and the
Data Docs folder; the values are put in this process's environment right before the context
is opened, so no credential is ever written to a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import io
import os
import sys
import types
from pathlib import Path

from salesperf import config

DATASOURCE = "warehouse"
BATCH_DEFINITION = "all_rows"
URL_VARIABLE = "SALESPERF_GX_WAREHOUSE_URL"
DOCS_VARIABLE = "SALESPERF_GX_DATA_DOCS_DIR"
DOCS_SITE = "local_site"
# Every run: SUMMARY with counts but no unexpected values, so a passing expectation costs
# one aggregate (GX bundles them per table) and no query that scans the whole table for
# bad values that are not there: asking for 5 sample values took one extra full scan per
# column expectation, LIMIT 5 or not. Never COMPLETE: it pulls every bad value into Python.
RESULT_FORMATS = {
    "landing": {"result_format": "SUMMARY", "partial_unexpected_count": 0},
    "marts": {"result_format": "SUMMARY", "partial_unexpected_count": 0},
}
# A suite that failed is validated once more in this format, so the alert can show sample
# values and, for landing tables, the keys of the bad rows (asking for the keys on every run
# cost 13.5 of the 40 s the medium landing suites spent in PostgreSQL).
FAILURE_RESULT_FORMATS = {
    "landing": {
        "result_format": "SUMMARY",
        "partial_unexpected_count": 5,
        "unexpected_index_column_names": ["_source", "id"],
    },
    "marts": {"result_format": "SUMMARY", "partial_unexpected_count": 5},
}


def default_root() -> Path:
    return Path(os.environ.get("SALESPERF_GX_ROOT", config.EXPECTATIONS_DIR))


def data_docs_dir() -> Path:
    return Path(os.environ.get("SALESPERF_DATA_DOCS_DIR", config.LOCAL_DIR / "data_docs"))


# Modules that Great Expectations imports when it is imported, for one expectation that no
# suite here uses (expect_column_kl_divergence_to_be_less_than: scipy.stats for the
# divergence, altair for its chart): about 1 s of the 2.6 s import, paid by every process
# that validates (each Airflow validation task, the CLI). They are loaded on first use.
DEFERRED_IMPORTS = ("scipy.stats", "altair")


def defer_unused_imports() -> None:
    """Load :data:`DEFERRED_IMPORTS` on first use rather than when GX is imported. Call
    before the first import of GX; a module already imported, or not installed, is left
    alone. A suite that uses one of them (a KL-divergence or KS-test expectation) still
    works: the module loads when GX first reads one of its attributes.

    Not ``importlib.util.LazyLoader``: on Python 3.11 an ``import`` statement reading the
    lazy module's ``__spec__`` already loads it, and GX imports scipy.stats with one."""
    if "great_expectations" in sys.modules:
        return
    for name in DEFERRED_IMPORTS:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except ImportError:  # its parent package is missing
            continue
        if spec is not None:
            sys.modules[name] = _DeferredModule(name, spec)


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read; then the module is
    imported for real (and replaces this one in ``sys.modules``), and this one takes a copy
    of its namespace, so a name bound to it earlier keeps working."""

    def __init__(self, name: str, spec) -> None:
        super().__init__(name)
        self.__spec__ = spec  # read by the import system, which must not load it
        self.__loader__ = spec.loader
        if spec.submodule_search_locations is not None:
            self.__path__ = list(spec.submodule_search_locations)

    def __getattr__(self, attr: str):  # only for names not in this module's namespace
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # copy, pickle, inspect probing: not worth a load
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


def registry():
    """The suite registry in ``expectations/`` (the project root is put on the path); its
    suites import Great Expectations (see :func:`defer_unused_imports`)."""
    defer_unused_imports()
    root = str(config.PROJECT_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    from expectations import registry as reg

    return reg


@contextlib.contextmanager
def locked(root: Path):
    """One writer of a context folder at a time (Airflow tasks, CLI, demo)."""
    lock_dir = root / "gx" / "uncommitted"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "salesperf.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# Session settings of GX's connections: no JIT (compiling the bundled aggregate of a wide
# table costs more than it saves, as for dbt), and memory for the hash aggregates of the
# grain rules (4 MB spilled the medium fct_target_pacing_daily grain to disk: 4.1 s vs 1.1 s).
WORK_MEM = "256MB"
SESSION_OPTIONS = f"-c jit=off -c work_mem={WORK_MEM}"


def _gx_url(url: str) -> str:
    # GX's PostgreSQL datasource speaks SQLAlchemy; the project's driver is psycopg 3.
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if "options=" not in url:
        from urllib.parse import quote

        url += ("&" if "?" in url else "?") + "options=" + quote(SESSION_OPTIONS)
    return url


def open_context(warehouse_url: str, root: Path | None = None, docs_dir: Path | None = None):
    """The file data context with its project settings (no analytics, no progress bars, Data
    Docs into ``docs_dir``) and the warehouse datasource."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ[URL_VARIABLE] = _gx_url(warehouse_url)
    docs = Path(docs_dir or data_docs_dir())
    docs.mkdir(parents=True, exist_ok=True)
    os.environ[DOCS_VARIABLE] = str(docs) + "/"
    defer_unused_imports()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(root or default_root()))
    _parse_config_variables_once(context)
    changed = False
    if context.variables.analytics_enabled is not False:
        context.variables.analytics_enabled = False
        changed = True
    bars = context.variables.progress_bars
    if not bars or getattr(bars, "globally", None) is not False:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        changed = True
    if changed:
        with contextlib.redirect_stdout(io.StringIO()):  # GX prints the datasources here
            context.variables.save()
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": "${" + DOCS_VARIABLE + "}",
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    raw_sites = context.variables.config.data_docs_sites or {}
    current = raw_sites.get(DOCS_SITE, {})
    if (current.get("store_backend") or {}).get("base_directory") != site["store_backend"][
        "base_directory"
    ]:
        if DOCS_SITE in raw_sites:
            context.delete_data_docs_site(DOCS_SITE)
        context.add_data_docs_site(DOCS_SITE, site)
    try:
        context.data_sources.get(DATASOURCE)
    except KeyError:
        context.data_sources.add_postgres(DATASOURCE, connection_string="${" + URL_VARIABLE + "}")
    return context


def _parse_config_variables_once(context) -> None:
    """Make the context read ``uncommitted/config_variables.yml`` again only when the file
    or the environment changed.

    GX 1.x re-reads and re-parses that YAML file every time it looks up a context variable
    (the expectations store's name, for each suite it saves or reads): 1,250 parses, 1.9 s
    of a 15 s whole-table validation of the medium bench. The values only change when the
    file or an environment variable they refer to does, so they are kept under the file's
    size and modification time and the environment. A path that names a variable itself
    (``${...}``) is left to GX."""
    from great_expectations.core.config_provider import (
        _ConfigurationVariablesConfigurationProvider,
    )

    providers = getattr(getattr(context, "config_provider", None), "_providers", {})
    for provider in providers.values():
        if not isinstance(provider, _ConfigurationVariablesConfigurationProvider):
            continue
        relative = str(provider._config_variables_file_path)
        if "$" in relative:
            continue
        path = Path(provider._root_directory or os.curdir, relative)
        read = provider.get_values
        kept: dict = {}

        def get_values(read=read, path=path, kept=kept) -> dict:
            try:
                stat = path.stat()
                version = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                version = None
            key = (version, tuple(sorted(os.environ.items())))
            if kept.get("key") != key:
                kept["values"], kept["key"] = read(), key
            return dict(kept["values"])

        provider.get_values = get_values


def sync_layer(context, layer: str, specs=None):
    """Store the layer's assets, suites and validation definitions from code, and its
    checkpoint. Returns the checkpoint.

    The checkpoint has no UpdateDataDocsAction: that action rebuilds the site index once per
    validation result (13 and 16 index builds per layer run, 12 and 18 s of the medium
    landing and marts runs); :func:`build_docs` renders a run's pages and the index once."""
    import great_expectations as gx

    specs = specs if specs is not None else registry().suites(layer)
    datasource = context.data_sources.get(DATASOURCE)
    definitions = []
    for spec in specs:
        asset = _table_asset(datasource, spec.name, spec.batch_relation)
        try:
            batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
        except KeyError:
            batch_definition = asset.add_batch_definition_whole_table(BATCH_DEFINITION)
        suite = spec.build(context)
        definitions.append(_validation_definition(context, spec.name, batch_definition, suite))
    name = f"{layer}_checkpoint"
    try:
        existing = context.checkpoints.get(name)
    except Exception:  # noqa: BLE001 - absent
        existing = None
    if (
        existing is not None
        and [d.id for d in existing.validation_definitions] == [d.id for d in definitions]
        and not existing.actions
        and existing.result_format == RESULT_FORMATS[layer]
    ):
        return existing  # unchanged: re-saving would rewrite the suites with new ids
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=definitions,
            actions=[],
            result_format=RESULT_FORMATS[layer],
        )
    )


def build_docs(context, result_identifiers, root: Path, docs_dir: Path | None = None) -> None:
    """Render this run's validation pages, the pages of suites that changed since their page
    was rendered (or have none), and the index: one site build per layer run, not one per
    suite, and never every stored result."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    docs = Path(docs_dir or data_docs_dir())
    identifiers = list(result_identifiers)
    for suite_name in sorted({i.expectation_suite_identifier.name for i in identifiers}):
        # GX stores suite "a.b" as expectations/a/b.json and renders it to expectations/a/b.html
        parts = suite_name.split(".")
        source = Path(root, "gx", "expectations", *parts[:-1], parts[-1] + ".json")
        page = Path(docs, "expectations", *parts[:-1], parts[-1] + ".html")
        if (
            not page.is_file()
            or not source.is_file()
            or page.stat().st_mtime < source.stat().st_mtime
        ):
            identifiers.append(ExpectationSuiteIdentifier(name=suite_name))
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)


KEEP_RUNS = int(os.environ.get("SALESPERF_DQ_KEEP_RUNS", "30"))


def prune_results(root: Path, docs_dir: Path | None = None, keep: int = KEEP_RUNS) -> int:
    """Keep the newest ``keep`` stored results (and their Data Docs pages) per suite, so
    Data Docs, whose index lists every stored result, stays quick to build. History of
    every run stays in ops.validation_runs. Returns the number of run folders removed."""
    import shutil

    removed = 0
    bases = [
        Path(root) / "gx" / "uncommitted" / "validations",
        Path(docs_dir or data_docs_dir()) / "validations",
    ]
    for base in bases:
        if not base.is_dir():
            continue
        for suite_dir in (p for layer in base.iterdir() if layer.is_dir() for p in layer.iterdir()):
            if not suite_dir.is_dir():
                continue
            runs = sorted(
                (p for p in suite_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
            )
            for old in runs[:-keep] if keep > 0 else runs:
                shutil.rmtree(old, ignore_errors=True)
                removed += 1
    return removed


def _validation_definition(context, name: str, batch_definition, suite):
    """The stored definition when it already ties this suite to this batch; GX's
    add_or_update would re-save the suite with fresh expectation ids on every run."""
    import great_expectations as gx

    try:
        existing = context.validation_definitions.get(name)
    except Exception:  # noqa: BLE001 - absent (GX raises DataContextError subclasses)
        existing = None
    if (
        existing is not None
        and existing.suite.id == suite.id
        and existing.data.id == batch_definition.id
    ):
        return existing
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )


def _table_asset(datasource, name: str, relation: str):
    schema, table = relation.split(".", 1)
    try:
        asset = datasource.get_asset(name)
    except LookupError:
        return datasource.add_table_asset(name, table_name=table, schema_name=schema)
    if getattr(asset, "table_name", None) != table or getattr(asset, "schema_name", None) != schema:
        datasource.delete_asset(name)
        return datasource.add_table_asset(name, table_name=table, schema_name=schema)
    return asset
