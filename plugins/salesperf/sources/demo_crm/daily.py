"""Move the demo CRM forward day by day, the way a busy sales team changes a real CRM.

Each simulated day: open deals move through stages (wins create orders), new deals, leads
and activities appear, reps occasionally join, leave or change team, old rows get late
edits (``updated_at`` bumped), some rows are soft-deleted (flag / ``deleted_at``) and some
hard-deleted. The random generator is seeded by the CRM's seed and the simulated date, and
every query is ordered, so the result depends only on seed and current state.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from datetime import date, datetime, time, timedelta

import psycopg

from salesperf.sources.demo_crm import names as N
from salesperf.sources.demo_crm.generator import ACTIVITY_MIX as MIX
from salesperf.sources.demo_crm.generator import (
    ADVANCE_P,
    DURATION,
    DWELL_DAYS,
    OUTCOMES,
    PROBABILITY,
    SIZES,
    STAGES,
    SUBJECTS,
    TZ,
    USD_CNY,
    day_time,
    flush,
    phone,
    weighted,
)


def advance_days(conn: psycopg.Connection, days: int) -> dict[str, int]:
    """Advance the CRM in ``conn`` by ``days`` (committed per day); returns change counts."""
    meta = dict(conn.execute("select key, value from crm.meta").fetchall())
    if not meta:
        raise LookupError("this database holds no demo CRM (crm.meta is empty); run create first")
    conn.execute("set timezone to 'Asia/Shanghai'")
    totals: dict[str, int] = defaultdict(int)
    clock = datetime.fromisoformat(meta["clock"])
    for _ in range(days):
        day = clock.date() + timedelta(days=1)
        step = Day(conn, int(meta["seed"]), SIZES[meta["size"]], day)
        for k, v in step.run().items():
            totals[k] += v
        clock = datetime.combine(day, time(20, 0), TZ)
        conn.execute("update crm.meta set value = %s where key = 'clock'", (clock.isoformat(),))
        conn.execute(
            "update crm.meta set value = (value::int + 1)::text where key = 'advanced_days'"
        )
        conn.commit()
    return dict(totals)


# ids are fetched from the sequences in blocks: the first this size, doubling up to the last
ID_BLOCK_FIRST = 16
ID_BLOCK_MAX = 4096


class Day:
    def __init__(self, conn: psycopg.Connection, seed: int, size, day: date) -> None:
        self.conn = conn
        self.size = size
        self.day = day
        self.rng = random.Random(f"{seed}:advance:{day.isoformat()}")
        self.buf: dict[str, list[tuple]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.spare_ids: dict[str, deque[int]] = defaultdict(deque)
        self.id_block: dict[str, int] = defaultdict(lambda: ID_BLOCK_FIRST)

    def q(self, sql: str, params=()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def ids(self, table: str, n: int) -> list[int]:
        """``n`` new ids of ``crm.<table>``, from its sequence. Taken from the server a block
        at a time (one round trip per id was half of a day's work: 12.6 k round trips on
        the medium CRM), the block doubling up to ID_BLOCK_MAX for the busy tables. Ids a
        day leaves unused are gaps in the sequence, as rolled-back inserts leave in a real
        CRM; the ids handed out still depend only on seed and state."""
        spare = self.spare_ids[table]
        if len(spare) < n:
            block = max(n - len(spare), self.id_block[table])
            self.id_block[table] = min(block * 2, ID_BLOCK_MAX)
            spare.extend(
                r[0]
                for r in self.q(
                    f"select nextval(pg_get_serial_sequence('crm.{table}', 'id')) "  # noqa: S608
                    "from generate_series(1, %s) order by 1",
                    (block,),
                )
            )
        return [spare.popleft() for _ in range(n)]

    def now(self) -> datetime:
        return day_time(self.day, self.rng)

    def run(self) -> dict[str, int]:
        rng = self.rng
        self.reps = self.q(
            "select u.id, u.locale, u.team_id, t.manager_id from crm.users u "
            "join crm.teams t on t.id = u.team_id where u.role = 'rep' and u.is_active order by u.id"
        )
        accounts = defaultdict(list)
        for aid, owner, currency, name in self.q(
            "select id, owner_id, currency, name from crm.accounts where not is_deleted order by id"
        ):
            accounts[owner].append((aid, currency, name))
        self.accounts = accounts
        contacts = defaultdict(list)
        for cid, aid in self.q(
            "select id, account_id from crm.contacts where deleted_at is null order by id"
        ):
            contacts[aid].append(cid)
        self.contacts = contacts
        # a new account's region and currency, read once a day (not once per account)
        self.team_regions = {
            t: rest
            for t, *rest in self.q(
                "select t.id, r.id, r.default_currency, r.name from crm.teams t "
                "join crm.regions r on r.id = t.region_id order by t.id"
            )
        }
        self.move_open_deals()
        self.new_deals()
        for rep_id, locale, _team, _mgr in self.reps:
            for _ in range(rng.randint(0, 3)):
                self.activity(rep_id, locale, None, None)
        self.coaching()
        self.staff_changes()
        flush(self.conn, self.buf)
        self.late_edits()
        self.deletes()
        return dict(self.counts)

    # ------------------------------------------------------------------ deals

    def activity(self, owner: int, locale: str, stage: str | None, opp: tuple | None) -> None:
        rng = self.rng
        if opp is not None:
            account_id = opp[1]
        else:
            mine = self.accounts.get(owner)
            if not mine:
                return
            account_id = rng.choice(mine)[0]
        kind = weighted(rng, MIX[stage])
        dur = DURATION[kind]
        at = self.now()
        cs = self.contacts.get(account_id)
        self.buf["activities"].append(
            (self.ids("activities", 1)[0], kind, owner, account_id, rng.choice(cs) if cs else None,
             opp[0] if opp else None, at, rng.randint(*dur) if dur else None,
             rng.choice(OUTCOMES[kind]), SUBJECTS[locale][kind], at + timedelta(minutes=rng.randint(1, 90))),
        )  # fmt: skip
        self.counts["activities_new"] += 1

    def move_open_deals(self) -> None:
        rng = self.rng
        locale = {r[0]: r[1] for r in self.reps}
        open_deals = self.q(
            "select o.id, o.account_id, o.owner_id, o.stage, o.amount, o.currency, u.is_active "
            "from crm.opportunities o join crm.users u on u.id = o.owner_id "
            "where not o.is_closed and not o.is_deleted order by o.id"
        )
        updates = []
        for oid, aid, owner, stage, amount, currency, active in open_deals:
            if not active:
                continue
            if rng.random() < 0.35:
                self.activity(owner, locale.get(owner, "zh_CN"), stage, (oid, aid))
            if rng.random() >= 1 / DWELL_DAYS[stage]:
                continue
            at = self.now()
            i = STAGES.index(stage)
            advance = rng.random() < ADVANCE_P[stage]
            closed, won, reason = False, False, None
            if i == 3 or not advance:
                closed, won = True, advance
                new_stage = "closed_won" if won else "closed_lost"
                reason = None if won else rng.choice(N.LOST_REASONS)
            else:
                new_stage = STAGES[i + 1]
            updates.append(
                (
                    new_stage,
                    PROBABILITY[new_stage],
                    at if closed else None,
                    closed,
                    won,
                    reason,
                    at,
                    oid,
                )
            )
            self.buf["opportunity_stage_history"].append(
                (self.ids("opportunity_stage_history", 1)[0], oid, new_stage, at, amount, owner, at)
            )
            self.counts["stage_changes"] += 1
            if won:
                self.buf["orders"].append(
                    (self.ids("orders", 1)[0], aid, oid, owner, self.day, amount, currency, "paid", at,
                     rng.choice(("bank_transfer", "alipay", "wechat_pay")), at),
                )  # fmt: skip
                self.counts["deals_won"] += 1
        if updates:
            # one statement for the day's moves (columns as arrays), not one per deal
            self.conn.execute(
                "update crm.opportunities o set stage = u.stage, probability = u.probability,"
                " closed_at = u.closed_at, is_closed = u.is_closed, is_won = u.is_won,"
                " lost_reason = u.lost_reason, updated_at = u.updated_at"
                " from unnest(%s::text[], %s::numeric[], %s::timestamptz[], %s::boolean[],"
                " %s::boolean[], %s::text[], %s::timestamptz[], %s::bigint[])"
                " as u(stage, probability, closed_at, is_closed, is_won, lost_reason,"
                " updated_at, id)"
                " where o.id = u.id",
                [list(column) for column in zip(*updates, strict=True)],
            )

    def new_deals(self) -> None:
        rng = self.rng
        per_day = self.size.opps_per_rep_year / 365
        for rep_id, _locale, team_id, _mgr in self.reps:
            n = sum(1 for _ in range(4) if rng.random() < per_day / 4 * 1.4)
            for _ in range(n):
                mine = self.accounts.get(rep_id)
                if not mine or rng.random() < 0.1:
                    mine = self.new_account(rep_id, team_id)
                aid, currency, acc_name = rng.choice(mine)
                product, base = rng.choice(N.PRODUCTS)
                amount = round(base * rng.lognormvariate(0, 0.55), -2)
                if currency != "CNY":
                    amount = round(amount / USD_CNY, -1)
                oid = self.ids("opportunities", 1)[0]
                at = self.now()
                lead_id = None
                if rng.random() < 0.6:
                    lead_id = self.ids("leads", 1)[0]
                    self.buf["leads"].append(
                        (lead_id, rng.choice(N.ZH_SURNAMES)[0] + rng.choice(N.ZH_GIVEN)[0], acc_name, rng.choice(N.LEAD_SOURCES), "converted",
                         rep_id, at - timedelta(days=rng.randint(1, 20)), at, oid, at, None),
                    )  # fmt: skip
                self.buf["opportunities"].append(
                    (oid, f"{acc_name} - {product}", aid, rep_id, team_id, product, amount, currency,
                     "prospecting", PROBABILITY["prospecting"], at,
                     self.day + timedelta(days=rng.randint(30, 90)), None, False, False, None,
                     lead_id, at, False),
                )  # fmt: skip
                self.buf["opportunity_stage_history"].append(
                    (
                        self.ids("opportunity_stage_history", 1)[0],
                        oid,
                        "prospecting",
                        at,
                        amount,
                        rep_id,
                        at,
                    )
                )
                self.counts["opportunities_new"] += 1

    def new_account(self, rep_id: int, team_id: int) -> list[tuple]:
        rng = self.rng
        region, currency, region_name = self.team_regions[team_id]
        industry, zh_suffix, en_word = rng.choice(N.INDUSTRIES)
        city = rng.choice(N.CITIES[region_name])
        if currency == "CNY":
            name = city + rng.choice(N.ZH_COMPANY_CORE) + zh_suffix
        else:
            name = f"{rng.choice(N.EN_COMPANY_CORE)} {en_word} {rng.choice(N.EN_COMPANY_SUFFIX)}"
        aid = self.ids("accounts", 1)[0]
        at = self.now()
        self.buf["accounts"].append(
            (aid, name, industry, region, rep_id, rng.randint(20, 5000), None, None, currency, city,
             None, at, at, False),
        )  # fmt: skip
        cid = self.ids("contacts", 1)[0]
        self.buf["contacts"].append(
            (
                cid,
                aid,
                "Alex",
                "Chen",
                f"c{cid}@example.com",
                phone(rng, "en"),
                "Buyer",
                rep_id,
                at,
                at,
                None,
            )
        )
        self.accounts[rep_id].append((aid, currency, name))
        self.contacts[aid].append(cid)
        self.counts["accounts_new"] += 1
        return [(aid, currency, name)]

    # ------------------------------------------------------------------ people

    def coaching(self) -> None:
        rng = self.rng
        for rep_id, _locale, _team, manager in self.reps:
            if rng.random() < 0.02:
                self.buf["coaching_sessions"].append(
                    (self.ids("coaching_sessions", 1)[0], rep_id, manager, self.day, "coaching",
                     rng.choice(("win_rate", "activities", "pipeline")), 60,
                     rng.choice(N.COACHING_NOTES["en"]), self.now()),
                )  # fmt: skip
        if self.day.month in (1, 4, 7, 10) and self.day.day <= 20:
            q_end = self.day.replace(day=1) - timedelta(days=1)
            q_start = date(q_end.year, q_end.month - 2, 1)
            done = {r[0] for r in self.q(
                "select user_id from crm.appraisal_feedback where quarter_start = %s", (q_start,)
            )}  # fmt: skip
            for rep_id, locale, _team, _mgr in self.reps:
                if rep_id not in done and rng.random() < 0.04:
                    at = self.now()
                    self.buf["appraisal_feedback"].append(
                        (self.ids("appraisal_feedback", 1)[0], rep_id, "rep", q_start,
                         rng.randint(2, 5), rng.randint(2, 5), rng.randint(2, 5),
                         rng.choice(N.FEEDBACK_COMMENTS[locale]) or None, at, at),
                    )  # fmt: skip

    def staff_changes(self) -> None:
        rng = self.rng
        at = self.now()
        if self.reps and rng.random() < 0.05:
            rep_id = rng.choice(self.reps)[0]
            self.conn.execute(
                "update crm.users set leave_date = %s, is_active = false, updated_at = %s where id = %s",
                (self.day, at, rep_id),
            )
            self.counts["reps_left"] += 1
        if self.reps and rng.random() < 0.05:
            _, locale, team_id, manager = rng.choice(self.reps)
            uid = self.ids("users", 1)[0]
            name = rng.choice(N.ZH_SURNAMES)[0] + rng.choice(N.ZH_GIVEN)[0]
            self.buf["users"].append(
                (uid, name, f"new.rep{uid}@demo-sales.cn", "zh_CN", "rep", "Sales Representative",
                 team_id, manager, self.day, None, True, phone(rng, "zh_CN"), None, None, at, at),
            )  # fmt: skip
            self.counts["reps_joined"] += 1
        if len(self.reps) > 1 and rng.random() < 0.03:
            rep_id, _, team_id, _ = rng.choice(self.reps)
            other = [r for r in self.reps if r[2] != team_id]
            if other:
                _, _, new_team, manager = rng.choice(other)
                self.conn.execute(
                    "update crm.users set previous_team_id = team_id, team_id = %s, manager_id = %s, "
                    "team_changed_at = %s, updated_at = %s where id = %s",
                    (new_team, manager, at, at, rep_id),
                )
                self.counts["reps_moved"] += 1

    # ------------------------------------------------------------------ edits and deletes

    def sample_ids(self, table: str, k: int, where: str = "true") -> list[int]:
        """k distinct ids of existing rows, chosen by the seeded generator."""
        lo, hi = self.q(f"select min(id), max(id) from crm.{table} where {where}")[0]  # noqa: S608
        if lo is None:
            return []
        picks = sorted({self.rng.randint(lo, hi) for _ in range(k)})
        rows = self.q(
            f"select id from crm.{table} where id = any(%s) and {where} order by id",  # noqa: S608
            (picks,),
        )
        return [r[0] for r in rows]

    def update_rows(self, table: str, set_sql: str, ids: list[int]) -> int:
        """One UPDATE of ``crm.<table>`` for ``ids``, each row at its own moment of the day
        (``u.at`` in ``set_sql``); returns the rows sampled."""
        if ids:
            ats = [self.now() for _ in ids]
            self.conn.execute(
                f"update crm.{table} t set {set_sql}"  # noqa: S608 - fixed names
                " from unnest(%s::bigint[], %s::timestamptz[]) as u(id, at) where t.id = u.id",
                (ids, ats),
            )
        return len(ids)

    def late_edits(self) -> None:
        rng = self.rng
        k = max(2, len(self.reps) // 4)
        edits = [
            (
                "activities",
                "outcome = 'follow_up', duration_minutes = coalesce(duration_minutes, 0) + 5",
            ),
            ("opportunities", "amount = round(amount * 1.05, -1)"),
            ("accounts", "employees = employees + 10"),
            ("contacts", "title = 'Director'"),
            ("orders", "status = 'refunded', status_changed_at = u.at"),
        ]
        for table, set_sql in edits:
            ids = self.sample_ids(table, k if table != "orders" else 1)
            self.counts["late_edits"] += self.update_rows(
                table, f"{set_sql}, updated_at = u.at", ids
            )
        if rng.random() < 0.5:
            ids = self.sample_ids("sales_targets", 1)
            self.counts["late_edits"] += self.update_rows(
                "sales_targets", "value = round(value * 1.1, -2), updated_at = u.at", ids
            )

    def deletes(self) -> None:
        k = max(1, len(self.reps) // 10)
        soft = [
            ("contacts", "deleted_at = u.at, updated_at = u.at", "deleted_at is null"),
            ("leads", "deleted_at = u.at, updated_at = u.at", "deleted_at is null"),
            ("opportunities", "is_deleted = true, updated_at = u.at", "not is_deleted"),
        ]
        for table, set_sql, live in soft:
            self.counts["soft_deletes"] += self.update_rows(
                table, set_sql, self.sample_ids(table, k, live)
            )
        for table in ("activities", "satisfaction_surveys", "coaching_sessions"):
            ids = self.sample_ids(table, k if table == "activities" else 1)
            self.conn.execute(f"delete from crm.{table} where id = any(%s)", (ids,))  # noqa: S608
            self.counts["hard_deletes"] += len(ids)
