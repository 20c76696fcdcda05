"""Deterministic demo-CRM generator: a company's sales history streamed into PostgreSQL.

Everything derives from ``random.Random`` seeded by the seed (per rep: ``"<seed>:rep:<id>"``)
and from the as-of date; the wall clock never enters business data, so one seed gives the
same database byte for byte. Rows are generated per rep and written per chunk of reps with
``COPY``, so memory stays flat whatever the size.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources

import psycopg

from salesperf.sources.demo_crm import names as N

TZ = timezone(timedelta(hours=8))  # the company's local time (Asia/Shanghai has no DST)
DEFAULT_AS_OF = date(2026, 10, 31)
HISTORY_DAYS = 730
USD_CNY = 7.1
EMAIL_DOMAIN = "demo-sales.cn"

STAGES = ["prospecting", "qualification", "proposal", "negotiation"]
PROBABILITY = {
    "prospecting": 10,
    "qualification": 20,
    "proposal": 50,
    "negotiation": 75,
    "closed_won": 100,
    "closed_lost": 0,
}
# chance to move on from a stage (from negotiation: to win); otherwise the deal is lost
ADVANCE_P = {"prospecting": 0.68, "qualification": 0.62, "proposal": 0.66, "negotiation": 0.62}
DWELL_DAYS = {"prospecting": 6.0, "qualification": 10.0, "proposal": 14.0, "negotiation": 11.0}
ACTIVITY_MIX = {
    "prospecting": (("call", 45), ("email", 35), ("meeting", 10), ("visit", 10)),
    "qualification": (("call", 30), ("email", 25), ("meeting", 20), ("visit", 10), ("demo", 15)),
    "proposal": (("call", 20), ("email", 30), ("meeting", 20), ("visit", 15), ("demo", 15)),
    "negotiation": (("call", 30), ("email", 20), ("meeting", 30), ("visit", 20)),
    None: (("call", 40), ("email", 40), ("meeting", 10), ("visit", 10)),
}
DURATION = {
    "call": (5, 30),
    "email": None,
    "meeting": (30, 90),
    "visit": (60, 180),
    "demo": (45, 90),
}
OUTCOMES = {
    "call": ("connected", "no_answer", "follow_up", "voicemail"),
    "email": ("sent", "replied"),
    "meeting": ("completed", "follow_up", "rescheduled"),
    "visit": ("completed", "follow_up"),
    "demo": ("completed", "positive", "needs_follow_up"),
}
SUBJECTS = {
    "zh_CN": {"call": "电话跟进", "email": "邮件沟通", "meeting": "商务会议", "visit": "客户拜访",
              "demo": "产品演示"},
    "en": {"call": "Follow-up call", "email": "Email", "meeting": "Business meeting",
           "visit": "Customer visit", "demo": "Product demo"},
}  # fmt: skip

# Column order of every table as written by COPY (ids are assigned here, not by sequences).
COLUMNS = {
    "regions": "id name name_zh default_currency created_at updated_at",
    "teams": "id name name_zh region_id parent_id manager_id created_at updated_at",
    "users": "id full_name email locale role title team_id manager_id hire_date leave_date "
    "is_active phone previous_team_id team_changed_at created_at updated_at",
    "accounts": "id name industry region_id owner_id employees annual_revenue parent_account_id "
    "currency city website created_at updated_at is_deleted",
    "contacts": "id account_id first_name last_name email phone title owner_id created_at "
    "updated_at deleted_at",
    "leads": "id full_name company lead_source status owner_id created_at converted_at "
    "converted_opportunity_id updated_at deleted_at",
    "opportunities": "id name account_id owner_id team_id product amount currency stage "
    "probability created_at expected_close_date closed_at is_closed is_won lost_reason lead_id "
    "updated_at is_deleted",
    "opportunity_stage_history": "id opportunity_id stage changed_at amount changed_by updated_at",
    "activities": "id activity_type owner_id account_id contact_id opportunity_id occurred_at "
    "duration_minutes outcome subject updated_at",
    "orders": "id account_id opportunity_id owner_id order_date amount currency status "
    "status_changed_at payment_method updated_at",
    "satisfaction_surveys": "id account_id rep_id surveyed_at csat nps comment channel updated_at",
    "sales_targets": "id level level_key period_type period_start metric value currency "
    "created_by updated_at",
    "appraisal_feedback": "id user_id role quarter_start fairness_score clarity_score "
    "usefulness_score comment submitted_at updated_at",
    "coaching_sessions": "id rep_id coach_id session_date session_type kpi duration_minutes "
    "notes updated_at",
}
COLUMNS = {t: tuple(c.split()) for t, c in COLUMNS.items()}
TABLES = list(COLUMNS)


@dataclass(frozen=True)
class Size:
    name: str
    regions: int
    teams_per_region: int
    reps: int
    opps_per_rep_year: float
    activities_per_stage: float  # mean activities per opportunity stage
    chunk_reps: int
    progress: bool


SIZES = {
    s.name: s
    for s in [
        Size("tiny", 2, 2, 12, 30, 2.0, 50, False),
        Size("small", 3, 2, 30, 50, 2.0, 50, False),
        Size("medium", 6, 8, 500, 560, 3.0, 10, True),
        Size("large", 8, 25, 2000, 560, 1.0, 10, True),
    ]
}


def ddl() -> str:
    return resources.files("salesperf.sources.demo_crm").joinpath("schema.sql").read_text()


def day_time(d: date, rng: random.Random) -> datetime:
    """A moment in working hours on ``d``."""
    return datetime.combine(d, time(rng.randint(9, 17), rng.randint(0, 59), rng.randint(0, 59)), TZ)


def weighted(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, w in pairs:
        r -= w
        if r < 0:
            return value
    return pairs[-1][0]


@dataclass
class Rep:
    id: int
    locale: str
    team_id: int  # current team
    first_team_id: int
    moved_at: datetime | None
    hire: date
    leave: date | None
    skill: float

    def team_at(self, t: datetime) -> int:
        return self.first_team_id if self.moved_at is None or t < self.moved_at else self.team_id


@dataclass
class Team:
    id: int
    region: int  # region id
    region_name: str
    currency: str
    manager_id: int
    zh_share: float
    members: list[Rep] = field(default_factory=list)


class Person:
    """Name and e-mail factory keeping e-mails unique."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = defaultdict(int)

    def make(self, rng: random.Random, locale: str) -> tuple[str, str, str, str]:
        """(full name, first name, last name, e-mail)."""
        if locale == "zh_CN":
            sur, sur_py = rng.choice(N.ZH_SURNAMES)
            giv, giv_py = rng.choice(N.ZH_GIVEN)
            full, first, last, local = sur + giv, giv, sur, f"{giv_py}.{sur_py}"
        else:
            first, last = rng.choice(N.EN_FIRST), rng.choice(N.EN_LAST)
            full, local = f"{first} {last}", f"{first}.{last}".lower()
        self.seen[local] += 1
        n = self.seen[local]
        return full, first, last, f"{local}{n if n > 1 else ''}@{EMAIL_DOMAIN}"


def phone(rng: random.Random, locale: str) -> str:
    if locale == "zh_CN":
        return f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
    return f"+65 {rng.randint(6000, 9999)} {rng.randint(1000, 9999)}"


class Generator:
    def __init__(self, size: Size, seed: int, as_of: date = DEFAULT_AS_OF) -> None:
        self.size = size
        self.seed = seed
        self.as_of = as_of
        self.clock = datetime.combine(as_of, time(20, 0), TZ)
        self.start = as_of - timedelta(days=HISTORY_DAYS)
        self.next_ids: dict[str, int] = defaultdict(int)
        self.people = Person()
        self.buf: dict[str, list[tuple]] = defaultdict(list)
        self.teams: list[Team] = []
        self.reps: list[Rep] = []
        self.region_names: dict[int, str] = {}
        self.vp_id = 0
        self.directors: dict[int, int] = {}  # region id -> director user id
        # won revenue in company currency, for targets that look like the company's own
        self.rev_rep_month: dict[tuple[int, int, int], float] = defaultdict(float)
        self.rev_team_quarter: dict[tuple[int, int, int], float] = defaultdict(float)
        self.rev_region_year: dict[tuple[int, int], float] = defaultdict(float)
        self.rev_year: dict[int, float] = defaultdict(float)
        self.won_rep_quarter: dict[tuple[int, int, int], int] = defaultdict(int)
        self.acts_rep_quarter: dict[tuple[int, int, int], int] = defaultdict(int)

    def nid(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table]

    def add(self, table: str, row: tuple) -> None:
        self.buf[table].append(row)

    # ------------------------------------------------------------------ organisation

    def organisation(self) -> None:
        rng = random.Random(f"{self.seed}:org")
        s = self.size
        founded = datetime.combine(self.start - timedelta(days=1500), time(9), TZ)
        root = self.nid("teams")
        vp = self._staff(rng, "zh_CN", "director", "VP of Sales", root, None, founded)
        self.vp_id = vp
        self.add("teams", (root, "Sales", "销售部", None, None, vp, founded, founded))
        self._staff(rng, "zh_CN", "admin", "Sales Operations", root, vp, founded)
        team_defs: list[Team] = []
        for r in range(s.regions):
            name, name_zh, zh_share, currency = N.REGIONS[r]
            rid = self.nid("regions")
            self.region_names[rid] = name
            self.add("regions", (rid, name, name_zh, currency, founded, founded))
            locale = "zh_CN" if zh_share > 0.5 else "en"
            rteam = self.nid("teams")
            director = self._staff(rng, locale, "director", f"{name} Director", rteam, vp, founded)
            self.directors[rid] = director
            self.add("teams", (rteam, name, name_zh, rid, root, director, founded, founded))
            for k in range(1, s.teams_per_region + 1):
                tid = self.nid("teams")
                loc = "zh_CN" if rng.random() < zh_share else "en"
                mgr = self._staff(rng, loc, "manager", "Sales Manager", tid, director, founded)
                self.add(
                    "teams",
                    (tid, f"{name} Team {k}", f"{name_zh}{k}组", rid, rteam, mgr, founded, founded),
                )
                team_defs.append(Team(tid, rid, name, currency, mgr, zh_share))
        self.teams = team_defs
        by_id = {t.id: t for t in team_defs}
        for i in range(s.reps):
            team = team_defs[i % len(team_defs)]
            locale = "zh_CN" if rng.random() < team.zh_share else "en"
            if rng.random() < 0.15:  # joined during the history
                hire = self.start + timedelta(days=rng.randint(0, HISTORY_DAYS - 60))
            else:
                hire = self.start - timedelta(days=rng.randint(30, 2500))
            leave = None
            if rng.random() < 0.12:
                lo = max(hire, self.start) + timedelta(days=90)
                if lo < self.as_of - timedelta(days=10):
                    leave = lo + timedelta(
                        days=rng.randint(0, (self.as_of - timedelta(days=10) - lo).days)
                    )
            moved_at, new_team = None, team
            if rng.random() < 0.08:
                lo = max(hire, self.start) + timedelta(days=60)
                hi = (leave or self.as_of) - timedelta(days=30)
                if lo < hi:
                    same_region = [
                        t for t in team_defs if t.region == team.region and t is not team
                    ]
                    new_team = rng.choice(
                        same_region or [t for t in team_defs if t is not team] or [team]
                    )
                    moved_at = day_time(lo + timedelta(days=rng.randint(0, (hi - lo).days)), rng)
            full, _, _, email = self.people.make(rng, locale)
            uid = self.nid("users")
            rep = Rep(
                uid, locale, new_team.id, team.id, moved_at, hire, leave, rng.uniform(0.8, 1.2)
            )
            team.members.append(rep)
            if new_team is not team:
                new_team.members.append(rep)
            self.reps.append(rep)
            created = datetime.combine(hire, time(9), TZ)
            updated = max(
                [created]
                + ([moved_at] if moved_at else [])
                + ([datetime.combine(leave, time(18), TZ)] if leave else [])
            )
            self.add(
                "users",
                (
                    uid, full, email, locale, "rep", "Sales Representative", new_team.id,
                    by_id[new_team.id].manager_id, hire, leave, leave is None, phone(rng, locale),
                    team.id if moved_at else None, moved_at, created, updated,
                ),
            )  # fmt: skip

    def _staff(self, rng, locale, role, title, team_id, manager_id, founded) -> int:
        full, _, _, email = self.people.make(rng, locale)
        uid = self.nid("users")
        hire = founded.date() + timedelta(days=rng.randint(0, 400))
        created = datetime.combine(hire, time(9), TZ)
        self.add(
            "users",
            (uid, full, email, locale, role, title, team_id, manager_id, hire, None, True,
             phone(rng, locale), None, None, created, created),
        )  # fmt: skip
        return uid

    # ------------------------------------------------------------------ per rep

    def teammate(self, rep: Rep, at: date, rng: random.Random) -> int:
        team = next(
            t for t in self.teams if t.id == rep.team_at(datetime.combine(at, time(12), TZ))
        )
        mates = [
            m.id for m in team.members
            if m.id != rep.id and m.hire <= at and (m.leave is None or m.leave > at)
        ]  # fmt: skip
        return rng.choice(mates) if mates else team.manager_id

    def rep_history(self, rep: Rep) -> None:
        rng = random.Random(f"{self.seed}:rep:{rep.id}")
        s = self.size
        team = next(t for t in self.teams if t.id == rep.first_team_id)
        active_start = max(rep.hire, self.start)
        active_end = min(rep.leave or self.as_of, self.as_of)
        ramp = active_start + timedelta(days=21 if rep.hire >= self.start else 0)
        days = (active_end - ramp).days
        leave_dt = datetime.combine(rep.leave, time(18), TZ) if rep.leave else None
        successor = self.teammate(rep, rep.leave, rng) if rep.leave else None
        self._coaching_and_feedback(rep, rng, active_start, active_end)
        if days <= 0:
            return
        n_opps = max(1, round(s.opps_per_rep_year * days / 365 * rep.skill * rng.uniform(0.9, 1.1)))
        accounts = [self._account(rep, team, rng, ramp) for _ in range(max(2, n_opps // 3 + 1))]

        created_times = []
        while len(created_times) < n_opps:
            d = ramp + timedelta(days=rng.randrange(days))
            # seasonality: quarter-end months and Q4 are busier
            w = 1.0 + (0.3 if d.month in (3, 6, 9, 12) else 0) + (0.2 if d.month >= 10 else 0)
            if rng.random() * 1.5 < w:
                created_times.append(day_time(d, rng))
        created_times.sort()

        for created in created_times:
            self._opportunity(rep, rng, created, rng.choice(accounts), leave_dt, successor)

        # leads that never converted
        for _ in range(n_opps // 2):
            created = day_time(ramp + timedelta(days=rng.randrange(days)), rng)
            age = (self.clock - created).days
            status = (
                "new"
                if age < 14 and rng.random() < 0.7
                else weighted(
                    rng, (("working", 20), ("nurturing", 25), ("disqualified", 40), ("new", 5))
                )
            )
            company = (
                rng.choice(accounts)[5] if rng.random() < 0.2 else self._company_name(rng, team)[0]
            )
            updated = min(self.clock, created + timedelta(days=rng.randint(0, 30)))
            deleted = updated if rng.random() < 0.01 else None
            self.add(
                "leads",
                (self.nid("leads"), self.people.make(rng, rep.locale)[0], company,
                 rng.choice(N.LEAD_SOURCES), status, rep.id, created, None, None, updated, deleted),
            )  # fmt: skip

        # account-level activities not tied to a deal
        span = (active_end - ramp).days
        for _ in range(int(n_opps * s.activities_per_stage)):
            occurred = day_time(ramp + timedelta(days=rng.randrange(max(1, span))), rng)
            acc = rng.choice(accounts)
            self._activity(rep.id, rep.locale, rng, None, acc, occurred, None)

    def _company_name(self, rng, team: Team) -> tuple[str, str, str, str]:
        industry, zh_suffix, en_word = rng.choice(N.INDUSTRIES)
        city = rng.choice(N.CITIES[team.region_name])
        if team.currency == "CNY":
            name = city + rng.choice(N.ZH_COMPANY_CORE) + zh_suffix
            locale = "zh_CN"
        else:
            name = f"{rng.choice(N.EN_COMPANY_CORE)} {en_word} {rng.choice(N.EN_COMPANY_SUFFIX)}"
            locale = "en"
        return name, industry, city, locale

    def _account(self, rep: Rep, team: Team, rng, ramp: date) -> tuple:
        """Writes an account and its contacts; returns (id, currency, locale, contacts, ...)."""
        aid = self.nid("accounts")
        name, industry, city, locale = self._company_name(rng, team)
        currency = team.currency if rng.random() > 0.08 else "USD"
        created = day_time(ramp - timedelta(days=rng.randint(1, 600)), rng)
        updated = min(self.clock, created + timedelta(days=rng.randint(0, 90)))
        if rng.random() < 0.05:
            updated = min(self.clock, updated + timedelta(days=rng.randint(30, 600)))  # late edit
        deleted = rng.random() < 0.003
        employees = int(rng.lognormvariate(math.log(300), 1.3)) + 5
        revenue = round(employees * rng.uniform(0.3, 2.0) * 1_000_000, -3)
        website = f"www.{'-'.join(name.split()).lower()}.com" if locale == "en" else None
        self.add(
            "accounts",
            (aid, name, industry, team.region, rep.id, employees, revenue, None, currency, city,
             website, created, updated, deleted),
        )  # fmt: skip
        contacts = []
        for _ in range(rng.randint(1, 3)):
            cid = self.nid("contacts")
            full, first, last, _ = self.people.make(rng, locale)
            titles = N.TITLES_ZH if locale == "zh_CN" else N.TITLES_EN
            c_created = min(self.clock, created + timedelta(days=rng.randint(0, 30)))
            c_deleted = (
                c_created + timedelta(days=rng.randint(30, 400)) if rng.random() < 0.02 else None
            )
            if c_deleted and c_deleted > self.clock:
                c_deleted = None
            mail = f"c{cid}@{'example.cn' if locale == 'zh_CN' else 'example.com'}"
            self.add(
                "contacts",
                (cid, aid, first, last, mail, phone(rng, locale), rng.choice(titles), rep.id,
                 c_created, c_deleted or c_created, c_deleted),
            )  # fmt: skip
            contacts.append(cid)
        return (aid, currency, locale, contacts, team.region, name)

    def _opportunity(self, rep: Rep, rng, created: datetime, acc, leave_dt, successor) -> None:
        aid, currency, locale, contacts, _region, acc_name = acc
        oid = self.nid("opportunities")
        product, base = rng.choice(N.PRODUCTS)
        amount_cny = round(base * rng.lognormvariate(0, 0.55), -2)
        amount = amount_cny if currency == "CNY" else round(amount_cny / USD_CNY, -1)
        lead_id = None
        if rng.random() < 0.6:
            lead_id = self.nid("leads")
            l_created = created - timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
            self.add(
                "leads",
                (lead_id, self.people.make(rng, locale)[0], acc_name, rng.choice(N.LEAD_SOURCES),
                 "converted", rep.id, l_created, created, oid, created, None),
            )  # fmt: skip

        def owner_at(t: datetime) -> int:
            return successor if leave_dt is not None and t > leave_dt else rep.id

        stage, t = "prospecting", created
        history = [(stage, t, amount, rep.id)]
        segments = []
        closed_at, won, lost_reason = None, False, None
        for i, st in enumerate(STAGES):
            t_next = t + timedelta(days=rng.lognormvariate(math.log(DWELL_DAYS[st]), 0.7))
            if t_next > self.clock:
                break
            segments.append((st, t, t_next))
            advance = rng.random() < min(0.95, ADVANCE_P[st] * rep.skill)
            if st == "proposal" and advance and rng.random() < 0.3:
                amount = round(amount * rng.uniform(0.8, 1.15), -1)  # re-quoted
            if i == 3 or not advance:
                stage = "closed_won" if advance else "closed_lost"
                closed_at, won = t_next, advance
                lost_reason = None if won else rng.choice(N.LOST_REASONS)
            else:
                stage = STAGES[i + 1]
            history.append((stage, t_next, amount, owner_at(t_next)))
            t = t_next
            if closed_at:
                break
        if closed_at is None:
            segments.append((stage, t, self.clock))
        owner = owner_at(self.clock if closed_at is None else closed_at)
        for h_stage, h_at, h_amount, h_by in history:
            self.add(
                "opportunity_stage_history",
                (self.nid("opportunity_stage_history"), oid, h_stage, h_at, h_amount, h_by, h_at),
            )
        for st, a, b in segments:
            span = (b - a).total_seconds()
            for _ in range(rng.randint(0, round(2 * self.size.activities_per_stage))):
                occurred = a + timedelta(seconds=rng.random() * span)
                self._activity(
                    owner_at(occurred), rep.locale, rng, st, (aid, *acc[1:]), occurred, oid
                )

        updated = history[-1][1]
        if rng.random() < 0.03:
            updated = min(self.clock, updated + timedelta(days=rng.randint(1, 60)))  # late edit
        deleted = rng.random() < 0.004
        team_id = rep.team_at(created)
        expected = (created + timedelta(days=rng.randint(30, 90))).date()
        self.add(
            "opportunities",
            (oid, f"{acc_name} - {product}", aid, owner, team_id, product, amount, currency, stage,
             PROBABILITY[stage], created, expected, closed_at, closed_at is not None, won,
             lost_reason, lead_id, updated, deleted),
        )  # fmt: skip
        if won:
            self._won(rep, rng, oid, aid, owner, amount, currency, locale, closed_at)

    def _won(self, rep, rng, oid, aid, owner, amount, currency, locale, closed_at) -> None:
        cny = amount if currency == "CNY" else amount * USD_CNY
        d = closed_at.date()
        q = (d.month - 1) // 3 + 1
        team_id = rep.team_at(closed_at)
        region = next(t.region for t in self.teams if t.id == team_id)
        self.rev_rep_month[(rep.id, d.year, d.month)] += cny
        self.rev_team_quarter[(team_id, d.year, q)] += cny
        self.rev_region_year[(region, d.year)] += cny
        self.rev_year[d.year] += cny
        self.won_rep_quarter[(rep.id, d.year, q)] += 1
        r = rng.random()
        status, changed = "paid", closed_at + timedelta(days=rng.randint(1, 20))
        if r < 0.05:
            status, changed = "refunded", closed_at + timedelta(days=rng.randint(15, 90))
        elif r < 0.08:
            status, changed = "cancelled", closed_at + timedelta(days=rng.randint(1, 10))
        if changed > self.clock:
            status, changed = "paid", closed_at
        self.add(
            "orders",
            (self.nid("orders"), aid, oid, owner, d, amount, currency, status, changed,
             rng.choice(("bank_transfer", "alipay", "wechat_pay", "credit_card")), changed),
        )  # fmt: skip
        if rng.random() < 0.45:
            at = closed_at + timedelta(days=rng.randint(7, 40))
            if at <= self.clock:
                csat = int(weighted(rng, (("1", 3), ("2", 5), ("3", 15), ("4", 40), ("5", 37))))
                nps = max(0, min(10, csat * 2 + rng.randint(-2, 1)))
                self.add(
                    "satisfaction_surveys",
                    (self.nid("satisfaction_surveys"), aid, owner, at, csat, nps,
                     rng.choice(N.SURVEY_COMMENTS[locale]) or None,
                     rng.choice(("email", "sms", "wechat")), at),
                )  # fmt: skip

    def _activity(self, owner, locale, rng, stage, acc, occurred, oid) -> None:
        kind = weighted(rng, ACTIVITY_MIX[stage])
        dur = DURATION[kind]
        aid, contacts = acc[0], acc[3]
        d = occurred.date()
        self.acts_rep_quarter[(owner, d.year, (d.month - 1) // 3 + 1)] += 1
        self.add(
            "activities",
            (self.nid("activities"), kind, owner, aid, rng.choice(contacts), oid, occurred,
             rng.randint(*dur) if dur else None, rng.choice(OUTCOMES[kind]),
             SUBJECTS[locale][kind], min(self.clock, occurred + timedelta(minutes=rng.randint(1, 120)))),
        )  # fmt: skip

    def _coaching_and_feedback(self, rep: Rep, rng, active_start: date, active_end: date) -> None:
        d = date(active_start.year, active_start.month, 1)
        while d <= active_end:
            nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
            if rng.random() < 0.45:
                day = d + timedelta(days=rng.randint(0, (nxt - d).days - 1))
                if active_start <= day <= active_end:
                    team = next(
                        t
                        for t in self.teams
                        if t.id == rep.team_at(datetime.combine(day, time(12), TZ))
                    )
                    self.add(
                        "coaching_sessions",
                        (self.nid("coaching_sessions"), rep.id, team.manager_id, day,
                         weighted(rng, (("coaching", 55), ("training", 30), ("strategy", 15))),
                         rng.choice(("win_rate", "activities", "pipeline", "deal_size",
                                     "sales_cycle", "revenue")),
                         rng.choice((30, 45, 60, 90, 120)), rng.choice(N.COACHING_NOTES[rep.locale]),
                         datetime.combine(day, time(19), TZ)),
                    )  # fmt: skip
            if d.month in (1, 4, 7, 10):  # quarter start: feedback on the previous quarter
                q_end = d - timedelta(days=1)
                q_start = date(q_end.year, q_end.month - 2, 1)
                self.feedback(rng, rep.id, "rep", rep.locale, q_start, active_start, active_end)
            d = nxt

    def feedback(self, rng, user_id, role, locale, q_start, active_start, active_end) -> None:
        q_end = date(q_start.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1)
        if (
            not (active_start <= q_end - timedelta(days=1) and q_end <= active_end)
            or rng.random() > 0.6
        ):
            return
        at = day_time(q_end + timedelta(days=rng.randint(2, 20)), rng)
        if at > self.clock:
            return
        scores = [
            int(weighted(rng, (("2", 10), ("3", 35), ("4", 40), ("5", 15)))) for _ in range(3)
        ]
        self.add(
            "appraisal_feedback",
            (self.nid("appraisal_feedback"), user_id, role, q_start, *scores,
             rng.choice(N.FEEDBACK_COMMENTS[locale]) or None, at, at),
        )  # fmt: skip

    # ------------------------------------------------------------------ company level

    def targets(self) -> None:
        """Explicit targets as a company enters them: annual company, some region/team/rep."""
        rng = random.Random(f"{self.seed}:targets")
        elapsed = (self.as_of - date(self.as_of.year, 1, 1)).days + 1
        year_days = (date(self.as_of.year + 1, 1, 1) - date(self.as_of.year, 1, 1)).days

        def scale(y: int) -> float:
            return year_days / elapsed if y == self.as_of.year else 1.0

        def add(level, key, ptype, start, metric, value, by):
            entered = datetime.combine(start - timedelta(days=20), time(10), TZ)
            value = max(round(value, -4 if metric == "revenue" else 0), 1)
            self.add(
                "sales_targets",
                (self.nid("sales_targets"), level, key, ptype, start, metric, value,
                 "CNY" if metric == "revenue" else None, by, min(entered, self.clock)),
            )  # fmt: skip

        years = [y for y in (self.as_of.year - 1, self.as_of.year) if self.rev_year.get(y)]
        for y in years:
            add("company", None, "year", date(y, 1, 1), "revenue",
                self.rev_year[y] * scale(y) * rng.uniform(1.05, 1.2), self.vp_id)  # fmt: skip
        y = self.as_of.year
        for i, (rid, name) in enumerate(sorted(self.region_names.items())):
            for yy in [y] + ([y - 1] if i % 2 == 0 else []):
                actual = self.rev_region_year.get((rid, yy), 0) * scale(yy)
                if actual:
                    add("region", name, "year", date(yy, 1, 1), "revenue",
                        actual * rng.uniform(1.0, 1.25), self.directors[rid])  # fmt: skip
        for team in self.teams[::2]:
            for q in range(1, 5):
                actual = self.rev_team_quarter.get((team.id, y, q)) or self.rev_team_quarter.get(
                    (team.id, y - 1, q), 0
                )
                if actual:
                    add("team", str(team.id), "quarter", date(y, 3 * q - 2, 1), "revenue",
                        actual * rng.uniform(1.0, 1.3), team.manager_id)  # fmt: skip
        for rep in self.reps:
            if rep.leave and rep.leave.year < y or rep.hire.year > y:
                continue
            r = rng.random()
            if r < 0.25:
                for m in range(1, 13):
                    actual = self.rev_rep_month.get((rep.id, y, m)) or self.rev_rep_month.get(
                        (rep.id, y - 1, m), 0
                    )
                    add("rep", str(rep.id), "month", date(y, m, 1), "revenue",
                        max(actual, 20_000) * rng.uniform(0.9, 1.3), self.vp_id)  # fmt: skip
            elif r < 0.35:
                for q in range(1, 5):
                    won = self.won_rep_quarter.get((rep.id, y - 1, q), 3)
                    add("rep", str(rep.id), "quarter", date(y, 3 * q - 2, 1), "deals_won",
                        won * rng.uniform(1.0, 1.3), self.vp_id)  # fmt: skip
            elif r < 0.45:
                for q in range(1, 5):
                    acts = self.acts_rep_quarter.get((rep.id, y - 1, q), 60)
                    add("rep", str(rep.id), "quarter", date(y, 3 * q - 2, 1), "activities",
                        acts * rng.uniform(1.0, 1.2), self.vp_id)  # fmt: skip

    def manager_feedback(self) -> None:
        rng = random.Random(f"{self.seed}:managers")
        for team in self.teams:
            d = date(self.start.year, self.start.month, 1)
            while d <= self.as_of:
                if d.month in (1, 4, 7, 10):
                    self.feedback(
                        rng, team.manager_id, "manager", "zh_CN", d, self.start, self.as_of
                    )
                d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)


# ---------------------------------------------------------------------- writing


def flush(conn: psycopg.Connection, buf: dict[str, list[tuple]]) -> dict[str, int]:
    counts = {}
    with conn.cursor() as cur:
        for table in TABLES:
            rows = buf.get(table)
            if not rows:
                continue
            cols = ", ".join(COLUMNS[table])
            with cur.copy(f"copy crm.{table} ({cols}) from stdin") as cp:  # noqa: S608 - fixed names
                for row in rows:
                    cp.write_row(row)
            counts[table] = len(rows)
    buf.clear()
    return counts


def generate(
    conn: psycopg.Connection, size: Size, seed: int, as_of: date = DEFAULT_AS_OF
) -> dict[str, int]:
    """Create the ``crm`` schema in ``conn``'s database and fill it; returns rows per table."""
    from tqdm import tqdm

    gen = Generator(size, seed, as_of)
    totals: dict[str, int] = defaultdict(int)

    def write() -> None:
        for t, n in flush(conn, gen.buf).items():
            totals[t] += n

    conn.execute("set timezone to 'Asia/Shanghai'")
    conn.execute(ddl())
    gen.organisation()
    write()
    with tqdm(
        total=len(gen.reps), unit="rep", desc=f"demo CRM ({size.name})", disable=not size.progress
    ) as bar:
        for i, rep in enumerate(gen.reps, start=1):
            gen.rep_history(rep)
            bar.update()
            if i % size.chunk_reps == 0:
                write()
    gen.targets()
    gen.manager_feedback()
    write()
    finish_schema(conn)
    meta = {"seed": str(seed), "size": size.name, "as_of": as_of.isoformat(),
            "clock": gen.clock.isoformat(), "advanced_days": "0",
            # not business data: tells extracts that this is a new database (full reload)
            "instance_id": uuid.uuid4().hex}  # fmt: skip
    conn.execute(
        "insert into crm.meta (key, value) select * from unnest(%s::text[], %s::text[])",
        (list(meta), list(meta.values())),
    )
    return dict(totals)


def finish_schema(conn: psycopg.Connection) -> None:
    """Indexes a real CRM has (for incremental extracts) and sequences past the loaded ids."""
    for table in TABLES:
        conn.execute(f"create index on crm.{table} (updated_at)")  # noqa: S608
        conn.execute(
            f"select setval(pg_get_serial_sequence('crm.{table}', 'id'), "  # noqa: S608
            f"coalesce((select max(id) from crm.{table}), 0) + 1, false)"
        )
    for table, col in [("opportunities", "owner_id"), ("opportunities", "stage"),
                       ("opportunity_stage_history", "opportunity_id"), ("orders", "opportunity_id"),
                       ("activities", "opportunity_id")]:  # fmt: skip
        conn.execute(f"create index on crm.{table} ({col})")
    conn.execute("analyze")
