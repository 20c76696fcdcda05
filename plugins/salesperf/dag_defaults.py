"""Default task arguments shared by every DAG.

Retries and their delay come from the environment so that an interactive run
(`make demo`, tests through `airflow dags test`, which waits out retry delays) fails fast,
while production keeps minutes of back-off: SALESPERF_RETRIES (default 2) and
SALESPERF_RETRY_DELAY_SECONDS (default: the DAG's own delay).
Importing this module is cheap (no Airflow import).
"""

from __future__ import annotations

import os
from datetime import timedelta

OWNER = "data-team"


def default_args(retry_delay: timedelta = timedelta(minutes=2), **overrides) -> dict:
    delay = os.environ.get("SALESPERF_RETRY_DELAY_SECONDS")
    args = {
        "owner": OWNER,
        "retries": int(os.environ.get("SALESPERF_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(delay)) if delay else retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    }
    args.update(overrides)
    return args
