"""Good landing rows shared by the validation tests: small, consistent, every table."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

GOOD_LANDING = """
insert into raw.teams (id, name, region, parent_id, manager_id, _source, _batch_id) values
  ('t1', 'East', 'East', null, 'u1', 'demo', 'b1');
insert into raw.users (id, name, email, locale, role, team_id, manager_id, hire_date, active, _source, _batch_id) values
  ('u1', 'Wang Fang', 'wang@example.com', 'zh_CN', 'manager', 't1', null, '2020-01-01', true, 'demo', 'b1'),
  ('u2', 'Li Lei', 'li@example.com', 'zh_CN', 'rep', 't1', 'u1', '2021-03-01', true, 'demo', 'b1'),
  ('u3', 'Ann Lee', 'ann@example.com', 'en', 'rep', 't1', 'u1', '2022-05-01', true, 'demo', 'b1');
insert into raw.accounts (id, name, industry, region, owner_id, employees, annual_revenue, created_at, _source, _batch_id) values
  ('a1', 'Acme', 'retail', 'East', 'u2', 120, 5000000, now() - interval '400 days', 'demo', 'b1'),
  ('a2', 'Globex', 'tech', 'East', 'u3', 40, 800000, now() - interval '300 days', 'demo', 'b1');
insert into raw.contacts (id, account_id, name, email, owner_id, created_at, _source, _batch_id) values
  ('c1', 'a1', 'Zhao', 'zhao@acme.cn', 'u2', now() - interval '200 days', 'demo', 'b1');
insert into raw.leads (id, name, company, status, owner_id, created_at, _source, _batch_id) values
  ('l1', 'Qian', 'Initech', 'open', 'u3', now() - interval '20 days', 'demo', 'b1');
insert into raw.opportunities (id, name, account_id, owner_id, amount, currency, stage, probability, created_at, closed_at, is_closed, is_won, _source, _batch_id) values
  ('o1', 'Big deal', 'a1', 'u2', 120000, 'CNY', 'won', 100, now() - interval '90 days', now() - interval '10 days', true, true, 'demo', 'b1'),
  ('o2', 'Small deal', 'a2', 'u3', 8000, 'CNY', 'proposal', 60, now() - interval '30 days', null, false, false, 'demo', 'b1'),
  ('o3', 'Lost deal', 'a2', 'u3', 0, 'CNY', 'lost', 0, now() - interval '60 days', now() - interval '5 days', true, false, 'demo', 'b1');
insert into raw.opportunity_stage_history (id, opportunity_id, stage, changed_at, amount, _source, _batch_id) values
  ('h1', 'o1', 'proposal', now() - interval '50 days', 120000, 'demo', 'b1'),
  ('h2', 'o1', 'won', now() - interval '10 days', 120000, 'demo', 'b1');
insert into raw.activities (id, activity_type, owner_id, account_id, occurred_at, duration_minutes, _source, _batch_id) values
  ('x1', 'call', 'u2', 'a1', now() - interval '3 days', 15, 'demo', 'b1'),
  ('x2', 'visit', 'u3', 'a2', now() - interval '2 days', 60, 'demo', 'b1');
insert into raw.orders (id, account_id, opportunity_id, owner_id, order_date, amount, currency, status, _source, _batch_id) values
  ('r1', 'a1', 'o1', 'u2', current_date - 9, 120000, 'CNY', 'paid', 'demo', 'b1');
insert into raw.satisfaction_surveys (id, account_id, rep_id, surveyed_at, csat, nps, _source, _batch_id) values
  ('s1', 'a1', 'u2', now() - interval '5 days', 5, 9, 'demo', 'b1'),
  ('s2', 'a2', 'u3', now() - interval '4 days', 3, 6, 'demo', 'b1');
insert into raw.sales_targets (id, level, level_key, period_type, period_start, metric, value, _source, _batch_id) values
  ('g1', 'company', null, 'year', date_trunc('year', now())::date, 'revenue', 1000000, 'demo', 'b1'),
  ('g2', 'rep', 'u2', 'year', date_trunc('year', now())::date, 'revenue', 500000, 'demo', 'b1');
insert into raw.appraisal_feedback (id, user_id, role, quarter_start, fairness_score, clarity_score, usefulness_score, submitted_at, _source, _batch_id) values
  ('f1', 'u2', 'rep', date_trunc('quarter', now())::date, 4, 5, 3, now() - interval '1 day', 'demo', 'b1');
insert into raw.coaching_sessions (id, rep_id, coach_id, session_date, session_type, kpi, duration_minutes, _source, _batch_id) values
  ('k1', 'u3', 'u1', current_date - 7, 'coaching', 'win_rate', 45, 'demo', 'b1');
"""


@contextlib.contextmanager
def landing_database(server, prefix: str, *statements: str) -> Iterator:
    """A new database holding the landing tables with the good rows, then ``statements``;
    dropped afterwards."""
    import uuid

    from salesperf import warehouse as wh
    from salesperf.landing.migrations import migrate

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    try:
        with wh.connect(db, autocommit=True) as conn:
            migrate(conn)
            conn.execute(GOOD_LANDING)
            for statement in statements:
                conn.execute(statement)
        yield db
    finally:
        wh.drop_database(server, name)
