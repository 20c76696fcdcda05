"""Reports and email delivery.

``salesperf.reports.outbox`` is the only way mail leaves the system (idempotent outbox,
SMTP with retries); the other modules read the marts, render templates and charts, and
enqueue messages. Importing this package is cheap (no matplotlib, no database).
"""

KINDS = ("monthly_appraisal", "team_report", "reward", "pacing", "weekly", "quarterly")
