"""Small constructors shared by the suite builders, so every suite reads as business rules.

Everything here produces GX 1.x expectation objects; the SQL rules use GX's ``{batch}``
placeholder, so they run in PostgreSQL against the batch (pushdown) and return the
offending rows, which the alert shows.
"""

# ruff: noqa: S608 - SQL is built from identifiers written in these modules, checked by ident()
from __future__ import annotations

import json
import re

import great_expectations as gx
import great_expectations.expectations as gxe

# A live landing row may carry a timestamp a little ahead of our clock (source clock skew,
# time zones of date-only values); beyond this it is a data error.
FUTURE_TOLERANCE = "1 day"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def ident(name: str) -> str:
    """A table or column name from the suite code; anything else is a programming error."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def new_suite(context, name: str, *expectations) -> gx.ExpectationSuite:
    """Build the suite from code and store it. An unchanged suite is not rewritten and a
    changed one keeps the ids of its unchanged expectations, so the generated JSON under
    ``gx/`` only changes when the code does."""
    # Expectations go in through the constructor: ``suite.add_expectation`` writes through to
    # the store at once when a suite of that name is already stored (fresh ids every run).
    suite = gx.ExpectationSuite(name=name, expectations=list(expectations))
    try:
        existing = context.suites.get(name)
    except Exception:  # noqa: BLE001 - GX raises DataContextError (or a subclass) when absent
        return context.suites.add(suite)
    old_ids = {_signature(e): e.id for e in existing.expectations}
    if [_signature(e) for e in existing.expectations] == [
        _signature(e) for e in suite.expectations
    ]:
        return existing
    for e in suite.expectations:
        e.id = old_ids.get(_signature(e))
    suite.id = existing.id
    return context.suites.add_or_update(suite)


def _signature(expectation) -> str:
    config = expectation.configuration.to_json_dict()
    config.pop("id", None)
    config.pop("rendered_content", None)
    return json.dumps(config, sort_keys=True, default=str)


def settled_by_unique_index(table: str, columns: list[str], nulls_allowed: bool = True) -> str:
    """SQL true when ``table`` has a valid, immediate, whole-table unique index on plain
    columns, all among ``columns``: no two rows then share a value of ``columns``. Without
    ``nulls_allowed`` (GROUP BY semantics, nulls equal) those index columns must be NOT NULL
    too. The same test as the dbt macro ``settled_by_unique_index`` (GX rules cannot call
    dbt macros)."""
    ident(table)
    names = ", ".join(f"'{ident(c)}'" for c in columns)
    not_null = "" if nulls_allowed else " and a.attnotnull"
    return (
        "exists (select 1 from pg_index i"
        f" where i.indrelid = '{table}'::regclass and i.indisunique and i.indisvalid"
        " and i.indimmediate and i.indpred is null and i.indexprs is null"
        f" and (select bool_and(a.attname = any(array[{names}]){not_null})"
        "  from pg_attribute a where a.attrelid = i.indrelid and a.attnum = any(i.indkey)))"
    )


def unique(column: str, indexed_in: str | None = None) -> gxe.Expectation:
    """No value of ``column`` appears twice (nulls aside). A grouping rule rather than GX's
    ExpectColumnValuesToBeUnique, whose SQL counts with a window over the column (a sort:
    5.5 s against 1.8 s for the medium fct_stage_transitions).

    With ``indexed_in`` (the table the batch reads), rows are only grouped while that table
    has no valid unique index on exactly ``column``: where dbt keeps one (the incremental
    facts), PostgreSQL already refuses a duplicate, and grouping 1.7 M stage changes took
    1 s of every mart validation. The catalog test is a one-time filter: the batch is not
    read at all when the index is there."""
    ident(column)
    guard = ""
    if indexed_in is not None:
        guard = f" and not {settled_by_unique_index(indexed_in, [column])}"
    expectation = rule(
        f"{column}: column values to be unique",
        f"select {column}, count(*) as rows from {{batch}} where {column} is not null{guard}"
        f" group by {column} having count(*) > 1",
    )
    expectation.meta = {"whole_table": True}  # a new row can clash with an old one
    return expectation


def present(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def key(column: str, indexed_in: str | None = None) -> list[gxe.Expectation]:
    """A single-column key: unique and never null (see :func:`unique` for ``indexed_in``)."""
    return [unique(column, indexed_in), *present(column)]


def between(column: str, low=None, high=None) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)


def in_set(column: str, values) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values))


def of_type(column: str, type_: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeOfType(column=column, type_=type_)


class ExpectNoRowsFromRuleQuery(gxe.UnexpectedRowsExpectation):
    """GX's UnexpectedRowsExpectation that only counts the rows its query returns.

    GX runs such a query twice, once to count the rows and once to fetch them, and it drops
    the fetched rows in any result format but COMPLETE: every rule cost two scans (8 s for the
    grain of the medium fct_target_pacing_daily). The alert's sample rows come from the
    rule's own query with a LIMIT, run again only when the rule failed (salesperf.validation).
    """

    metric_dependencies = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration=None, execution_engine=None):
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


def rule(description: str, query: str) -> gxe.Expectation:
    """A business rule as SQL returning the rows that break it (none = pass).

    GX substitutes ``{batch}`` with ``(sub-query) AS subselect`` unless the query contains a
    JOIN; then it substitutes ``(sub-query)`` and the query must give it an alias itself.
    """
    return ExpectNoRowsFromRuleQuery(description=description, unexpected_rows_query=query.strip())


def primary_key(table: str, columns: tuple[str, ...]) -> gxe.Expectation:
    """The columns are unique and present because PostgreSQL enforces it: ``table`` has its
    primary key on exactly these columns. A catalog lookup, where grouping the rows would
    scan the table (8.6 s for 5 M landing activities on the medium bench). It looks at
    ``table`` itself, not at the batch, so it holds when the batch is only the changed rows."""
    ident(table), [ident(c) for c in columns]
    cols = ", ".join(columns)
    wanted = ", ".join(f"'{c}'" for c in columns)
    return rule(
        f"({cols}) is unique and present: {table} keeps its primary key on ({cols})",
        "select 'no primary key on (" + cols + ")' as problem "  # noqa: S608 - code, not input
        f"where exists (select 1 from {table} union all select 1 from {{batch}}) and not exists ("
        " select 1 from pg_constraint c"
        f" where c.conrelid = '{table}'::regclass and c.contype = 'p'"
        " and array(select a.attname::text"
        "  from unnest(c.conkey) with ordinality as k(attnum, pos), pg_attribute a"
        "  where a.attrelid = c.conrelid and a.attnum = k.attnum order by k.pos)"
        f" = array[{wanted}])",
    )


def grain(*columns: str, indexed_in: str | None = None) -> gxe.Expectation:
    """One row per grain; NULL keys count as equal (``group by`` semantics), unlike a UNIQUE
    index. With ``indexed_in`` (the table the batch reads) the rows are not grouped while a
    unique index on some of the grain's columns, all NOT NULL, settles it (see
    :func:`unique`): dbt keeps one on the 1 M-row pacing mart, whose grouping took 0.9 s of
    every medium mart validation."""
    cols = ", ".join(ident(c) for c in columns)
    guard = ""
    if indexed_in is not None:
        guard = f" where not {settled_by_unique_index(indexed_in, list(columns), False)}"
    expectation = rule(
        f"one row per {' × '.join(columns)}",
        f"select {cols}, count(*) as rows from {{batch}}{guard} group by {cols}"
        " having count(*) > 1",
    )
    expectation.meta = {"whole_table": True}  # a new row can clash with an old one
    return expectation


def not_in_future(column: str, tolerance: str = FUTURE_TOLERANCE) -> gxe.Expectation:
    ident(column)
    return rule(
        f"{column} is not in the future (more than {tolerance} ahead of the run)",
        f"select * from {{batch}} where {column} > now() + interval '{tolerance}'",
    )


def references(
    column: str,
    table: str,
    table_column: str,
    *,
    same_source: bool = False,
    values_in: str | None = None,
):
    """Every non-null ``column`` exists in ``table.table_column``. For raw.* a key that the
    source deleted still counts as known: the CRM keeps history and activities of deleted
    deals and staff, and staging decides what to do with them.

    ``values_in``: the table where salesperf.validation keeps every value the column has
    held (see ``salesperf.validation.batches``); before a run it lists in ``REF_MISSING``
    those of them the parent lacks. The batch is then only read when there is one: joining
    millions of rows to the parent (0.7 s for the medium activities) is what a passing run
    no longer pays.
    """
    ident(column), ident(table), ident(table_column)
    src = " and t._source = b._source" if same_source else ""
    query = (
        f"select b.* from {{batch}} b left join {table} t on t.{table_column} = b.{column}{src}"
        f" where b.{column} is not null and t.{table_column} is null"
    )
    if values_in:
        ident(values_in)
        # uncorrelated: PostgreSQL evaluates it once, first, and skips the join when false
        query += f" and exists (select 1 from {REF_MISSING} m where m.values_table = '{values_in}')"
    expectation = rule(f"every {column} exists in {table}.{table_column}", query)
    # what an incremental run needs to find old rows orphaned by a key that left `table`
    expectation.meta = {
        "references": {
            "column": column,
            "table": table,
            "table_column": table_column,
            "same_source": same_source,
        }
    }
    if values_in:
        expectation.meta["references"]["values_table"] = values_in
    return expectation


# The kept values of each landing reference that the parent lacks, listed by
# salesperf.validation before a run (see references()).
REF_MISSING = "dq.landing_ref_missing"

# The live row count of each landing table, counted by salesperf.validation over the whole
# table before a run (the batch may hold only the rows changed since the last run), with the
# bounds that the previous successful run allows.
ROW_COUNTS = "dq.landing_row_counts"


def row_count_in_bounds(suite_name: str) -> gxe.Expectation:
    """The table's live row count is within bounds of the previous successful run (see
    ``salesperf.validation.history.row_count_bounds``): a truncated export or a duplicated
    feed. Counted over the whole table whatever the batch is."""
    name = suite_name.replace("'", "")
    return rule(
        "the live row count stays within bounds of the previous run",
        f"select c.live_rows, c.min_rows, c.max_rows from {ROW_COUNTS} c"
        f" where c.suite = '{name}' and (c.live_rows < c.min_rows or c.live_rows > c.max_rows)"
        # always true: GX wants every rule to name its batch
        " and not exists (select 1 from {batch} where false)",
    )


def column_types(table: str, table_columns) -> gxe.Expectation:
    """Every listed column of ``table`` has the PostgreSQL type of the contract (catches
    schema drift). Read from the catalog: it holds for the whole table, whatever the batch."""
    ident(table)
    parts = []
    for column, pg_type in table_columns:
        base = ident(pg_type.split("(", 1)[0])
        ident(column)
        parts.append(
            f"select '{column}' as column_name, format_type(a.atttypid, null) as actual_type, "
            f"'{base}' as expected_type from pg_attribute a "
            f"where a.attrelid = '{table}'::regclass and a.attname = '{column}' "
            f"and not a.attisdropped and a.atttypid <> '{base}'::regtype"
        )
    query = (
        "select * from (\n"
        + "\nunion all\n".join(parts)
        # always true: GX wants every rule to name its batch
        + "\n) as drift where not exists (select 1 from {batch} where false)"
    )
    return rule("columns have the types of the landing contract", query)
