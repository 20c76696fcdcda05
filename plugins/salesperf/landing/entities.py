"""The canonical landing entities (DESIGN §3): one ``raw.<entity>`` table each.

This is the contract between sources (demo CRM database, file exports, later SaaS APIs) and
the dbt project. Every landing table has:

* the entity's business columns below (ids are text: CRM ids are rarely integers);
* ``_source``       which source delivered the row (``demo_crm``, ``maven_crm``, ...);
* ``_extracted_at`` when the row was extracted;
* ``_batch_id``     the load batch that last wrote it;
* ``_extra``        jsonb with source-specific columns the mapping does not know;
* ``_deleted_at``   set when the source deleted the row (hard delete found by key
                    reconciliation, or a soft delete); such rows are kept for audit and
                    filtered out in staging.

Primary key: ``(_source, id)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL type
    required: bool = False  # a row without it is quarantined
    description: str = ""
    # "<entity>.<column>" its non-null values must exist in, from the same source (checked
    # by the landing suites, see expectations/landing_common.py); "" when it refers to none
    references: str = ""


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[Column, ...]
    description: str = ""

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def references(self) -> list[tuple[str, str, str]]:
        """(column, parent entity, parent column) of every column that refers to another."""
        return [(c.name, *c.references.split(".", 1)) for c in self.columns if c.references]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def C(
    name: str,
    type_: str = "text",
    required: bool = False,
    description: str = "",
    references: str = "",
) -> Column:
    return Column(name, type_, required, description, references)


ID = C("id", "text", True, "the source system's key")
UPDATED = C("updated_at", "timestamptz", False, "last change in the source")

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            "users",
            (
                ID,
                C("name", required=True),
                C("email"),
                C("locale", description="zh_CN or en"),
                C("role", description="rep, manager, director or admin"),
                C("team_id"),
                C("manager_id"),
                C("title"),
                C("hire_date", "date"),
                C("leave_date", "date"),
                C("active", "boolean"),
                UPDATED,
            ),
            "Sales reps, managers and directors.",
        ),
        Entity(
            "teams",
            (
                ID,
                C("name", required=True),
                C("region"),
                C("parent_id", references="teams.id"),
                C("manager_id", references="users.id"),
                UPDATED,
            ),
            "Sales teams with their region, parent team and manager.",
        ),
        Entity(
            "accounts",
            (
                ID,
                C("name", required=True),
                C("industry"),
                C("region"),
                C("owner_id"),
                C("employees", "integer"),
                C("annual_revenue", "numeric(18,2)"),
                C("parent_account_id"),
                C("created_at", "timestamptz"),
                UPDATED,
            ),
            "Customers.",
        ),
        Entity(
            "contacts",
            (
                ID,
                C("account_id"),
                C("name"),
                C("email"),
                C("phone"),
                C("title"),
                C("owner_id"),
                C("created_at", "timestamptz"),
                UPDATED,
            ),
            "People at customers.",
        ),
        Entity(
            "leads",
            (
                ID,
                C("name"),
                C("company"),
                C("lead_source"),
                C("status"),
                C("owner_id"),
                C("created_at", "timestamptz"),
                C("converted_at", "timestamptz"),
                C("converted_opportunity_id"),
                UPDATED,
            ),
            "Leads before they become opportunities.",
        ),
        Entity(
            "opportunities",
            (
                ID,
                C("name"),
                C("account_id"),
                C("owner_id", required=True, references="users.id"),
                C("product"),
                C("amount", "numeric(18,2)"),
                C("currency"),
                C("stage", required=True),
                C("probability", "numeric(5,2)", description="0-100"),
                C("created_at", "timestamptz"),
                C("expected_close_date", "date"),
                C("closed_at", "timestamptz"),
                C("is_closed", "boolean"),
                C("is_won", "boolean"),
                C("lost_reason"),
                UPDATED,
            ),
            "Deals, with their current stage.",
        ),
        Entity(
            "opportunity_stage_history",
            (
                ID,
                C("opportunity_id", required=True, references="opportunities.id"),
                C("stage", required=True),
                C("changed_at", "timestamptz", True),
                C("amount", "numeric(18,2)"),
                C("changed_by"),
                UPDATED,
            ),
            "Every stage change of every opportunity.",
        ),
        Entity(
            "activities",
            (
                ID,
                C("activity_type", required=True, description="call, meeting, visit, email, demo"),
                C("owner_id", required=True, references="users.id"),
                C("account_id"),
                C("contact_id"),
                C("opportunity_id"),
                C("occurred_at", "timestamptz", True),
                C("duration_minutes", "integer"),
                C("outcome"),
                C("subject"),
                UPDATED,
            ),
            "Calls, meetings, visits, emails and demos.",
        ),
        Entity(
            "orders",
            (
                ID,
                C("account_id"),
                C("opportunity_id"),
                C("owner_id", references="users.id"),
                C("order_date", "date", True),
                C("amount", "numeric(18,2)", True),
                C("currency"),
                C("status", required=True, description="paid, refunded or cancelled"),
                C("status_changed_at", "timestamptz"),
                UPDATED,
            ),
            "Purchase history.",
        ),
        Entity(
            "satisfaction_surveys",
            (
                ID,
                C("account_id"),
                C("rep_id", references="users.id"),
                C("surveyed_at", "timestamptz", True),
                C("csat", "smallint", description="1-5"),
                C("nps", "smallint", description="0-10"),
                C("comment"),
                UPDATED,
            ),
            "Customer satisfaction (CSAT 1-5) and NPS (0-10) per account and rep.",
        ),
        Entity(
            "sales_targets",
            (
                ID,
                C("level", required=True, description="company, region, team or rep"),
                C("level_key", description="region name, team id or rep id; null for company"),
                C("period_type", required=True, description="year, quarter or month"),
                C("period_start", "date", True),
                C(
                    "metric",
                    required=True,
                    description="revenue, deals_won, new_customers, activities",
                ),
                C("value", "numeric(18,2)", True),
                C("currency"),
                UPDATED,
            ),
            "Targets entered at any level and period.",
        ),
        Entity(
            "appraisal_feedback",
            (
                ID,
                C("user_id", required=True, references="users.id"),
                C("role", description="rep or manager"),
                C("quarter_start", "date", True),
                C("fairness_score", "smallint", description="1-5"),
                C("clarity_score", "smallint", description="1-5"),
                C("usefulness_score", "smallint", description="1-5"),
                C("comment"),
                C("submitted_at", "timestamptz"),
                UPDATED,
            ),
            "Reps' and managers' feedback on the appraisal process.",
        ),
        Entity(
            "coaching_sessions",
            (
                ID,
                C("rep_id", required=True, references="users.id"),
                C("coach_id"),
                C("session_date", "date", True),
                C("session_type", description="training, coaching or strategy"),
                C("kpi", description="the KPI the session works on"),
                C("duration_minutes", "integer"),
                C("notes"),
                UPDATED,
            ),
            "Training and coaching logged by managers.",
        ),
    ]
}


def get(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(
            f"unknown landing entity {name!r}; known: {', '.join(sorted(ENTITIES))}"
        ) from None
