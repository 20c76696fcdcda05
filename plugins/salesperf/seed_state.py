"""Seeds are loaded, and their data tests run, only when something they depend on changed.

The 11 config seeds are small files the business edits a few times a year, yet a plain
`dbt build` truncates and reloads every one and runs their 76 data tests on every run
(about 11 s of node time in a medium daily build, for an answer already known). Here the
warehouse records, after each successful build, a fingerprint of everything a seed load and
its tests read, and a digest of each seed table's content. The next incremental build
leaves the seeds and their own tests out when:

- the fingerprint is unchanged: the seed files, their YAML, ``dbt_project.yml``, the
  macros and tests folders, and the dbt-core and dbt-postgres versions; and
- every seed table still holds exactly what was loaded (a table edited by hand, truncated
  or dropped in the warehouse makes its content digest differ, and all seeds load again).

Anything else loads them all, as before: a full refresh, the first build of a warehouse, a
new or renamed seed, an edited file (on every build until one with it succeeds: a failed
build records nothing). Tests that read a seed and a model (a relationship from a model to
a seed) still run: they test the model.
"""

from __future__ import annotations

import hashlib
from importlib import metadata

import psycopg
from psycopg import sql

from salesperf import config
from salesperf.warehouse import Warehouse, connect

SEED_SCHEMA = "config"  # dbt_project.yml: seeds: +schema: config (used verbatim)
_FINGERPRINT_PARTS = ("seeds", "dbt_project.yml", "macros", "tests")
_DIST = ("dbt-core", "dbt-postgres")

# dbt selection for a build that leaves the seeds out. `cautious`: a test is selected only
# when all its parents are, so the seeds' own tests go with them, while a test of a model
# against a seed stays (with the default `eager`, excluding a seed drops those too).
SKIP_SEEDS_ARGS = ["--exclude", "resource_type:seed", "--indirect-selection", "cautious"]


def seed_names() -> list[str]:
    return sorted(p.stem for p in (config.DBT_PROJECT_DIR / "seeds").rglob("*.csv"))


def fingerprint() -> str:
    """sha256 over every file a seed load or a seed's test reads, and the dbt versions."""
    digest = hashlib.sha256()
    root = config.DBT_PROJECT_DIR
    for part in _FINGERPRINT_PARTS:
        path = root / part
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            digest.update(str(f.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(f.read_bytes()).digest())
    for dist in _DIST:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def _content_digests(conn: psycopg.Connection, seeds: list[str]) -> dict[str, str | None]:
    """md5 of each seed table's rows in a fixed order; None where the table is missing."""
    existing = {
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (SEED_SCHEMA,),
        )
    }
    digests: dict[str, str | None] = {}
    for seed in seeds:
        if seed not in existing:
            digests[seed] = None
            continue
        query = sql.SQL(
            "select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from {}.{} as t"
        ).format(sql.Identifier(SEED_SCHEMA), sql.Identifier(seed))
        digests[seed] = conn.execute(query).fetchone()[0]
    return digests


def _recorded(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    rows = conn.execute("select seed, fingerprint, content_md5 from ops.dbt_seed_state")
    return {seed: (fp, md5) for seed, fp, md5 in rows}


def _migrated(warehouse: Warehouse | None) -> psycopg.Connection:
    from salesperf.landing.migrations import migrate

    conn = connect(warehouse, autocommit=True)
    migrate(conn)
    return conn


def unchanged(warehouse: Warehouse | None = None) -> bool:
    """True when the warehouse holds the seeds as the files define them, tested: a build may
    leave them out (see the module docstring)."""
    seeds = seed_names()
    with _migrated(warehouse) as conn:
        recorded = _recorded(conn)
        if set(recorded) != set(seeds):
            return False
        current = fingerprint()
        if any(fp != current for fp, _ in recorded.values()):
            return False
        digests = _content_digests(conn, seeds)
    return all(digests[s] is not None and digests[s] == recorded[s][1] for s in seeds)


def record(warehouse: Warehouse | None = None) -> None:
    """After a successful build: the seeds as they now are in the warehouse."""
    seeds = seed_names()
    current = fingerprint()
    with _migrated(warehouse) as conn, conn.transaction():
        digests = _content_digests(conn, seeds)
        conn.execute("delete from ops.dbt_seed_state")
        loaded = [s for s in seeds if digests[s] is not None]
        conn.execute(
            "insert into ops.dbt_seed_state (seed, fingerprint, content_md5)"
            " select seed, %s, md5 from unnest(%s::text[], %s::text[]) as t (seed, md5)",
            (current, loaded, [digests[s] for s in loaded]),
        )
