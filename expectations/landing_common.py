"""What every landing table must satisfy, derived from the landing contract
(:mod:`salesperf.landing.entities`): the key is unique and present (the table's primary
key, checked in the catalog: PostgreSQL enforces it on every row), required columns are
present, typed columns have their contract type, a column that refers to another entity
(its ``references``) holds only that entity's keys, and the row count stays within bounds of
the previous run. The area modules add the business rules per table."""

from __future__ import annotations

from expectations import _rules as r
from salesperf.landing.entities import ENTITIES
from salesperf.validation import batches

# GX reads each landing table through a view of its live rows: a table asset (unlike a
# query asset, which GX 1.24 pulls into memory for column expectations) keeps every
# expectation a query in PostgreSQL. salesperf.validation creates the views before a run.
VIEW_SCHEMA = "dq"


def live_rows_view(entity: str) -> str:
    return f"{VIEW_SCHEMA}.landing_{r.ident(ENTITIES[entity].name)}"


def live_rows_query(entity: str) -> str:
    """The batch of a landing suite: live rows only (source deletions are kept, flagged)."""
    return f"select * from raw.{r.ident(ENTITIES[entity].name)} where _deleted_at is null"  # noqa: S608


def contract(entity_name: str, suite_name: str) -> list:
    entity = ENTITIES[entity_name]
    required = [c for c in entity.required if c != "id"]
    typed = [(c.name, c.type) for c in entity.columns if c.type != "text"]
    expectations = [
        r.primary_key(f"raw.{r.ident(entity.name)}", ("_source", "id")),
        *r.present(*required),
        r.row_count_in_bounds(suite_name),
    ]
    if typed:
        expectations.append(r.column_types(f"raw.{r.ident(entity.name)}", typed))
    # same source, reading the batch only when a kept value of the column is missing from
    # the parent (see expectations._rules.references and salesperf.validation.batches)
    for ref in batches.declared_references(entity_name):
        expectations.append(
            r.references(
                ref["column"],
                ref["table"],
                ref["table_column"],
                same_source=ref["same_source"],
                values_in=ref["values_table"],
            )
        )
    return expectations
