"""Project paths and settings.

Business settings (timezone, currency, fiscal year) live in the dbt seed
`company_settings.csv`, so the data team edits them in one place; this module reads
that file for the Python side (Airflow schedules, report rendering).
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path


def _project_root() -> Path:
    env = os.environ.get("SALESPERF_HOME")
    if env:
        return Path(env).resolve()
    # plugins/salesperf/config.py -> project root is two levels above the package.
    return Path(__file__).resolve().parents[2]


PROJECT_ROOT = _project_root()
LOCAL_DIR = Path(os.environ.get("SALESPERF_LOCAL_DIR", PROJECT_ROOT / ".local"))
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DAGS_DIR = PROJECT_ROOT / "dags"
PLUGINS_DIR = PROJECT_ROOT / "plugins"
MAIL_DIR = Path(os.environ.get("SALESPERF_MAIL_DIR", LOCAL_DIR / "mail"))
DROP_DIR = Path(os.environ.get("SALESPERF_DROP_DIR", LOCAL_DIR / "drop"))

COMPANY_SETTINGS_SEED = DBT_PROJECT_DIR / "seeds" / "company_settings.csv"
KPI_SCORECARD_SEED = DBT_PROJECT_DIR / "seeds" / "kpi_scorecard.csv"

DEFAULTS = {
    "company_name": "Demo Sales Co.",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "fiscal_year_start_month": "1",
    "default_locale": "zh_CN",
}


@functools.cache
def company_settings() -> dict[str, str]:
    """Settings from the `company_settings` seed (setting,value), over the defaults."""
    settings = dict(DEFAULTS)
    if COMPANY_SETTINGS_SEED.exists():
        with COMPANY_SETTINGS_SEED.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                settings[row["setting"].strip()] = row["value"].strip()
    return settings


@functools.cache
def kpi_labels() -> dict[str, tuple[str, str]]:
    """KPI -> (label_zh, label_en) from the `kpi_scorecard` seed: the names readers see."""
    if not KPI_SCORECARD_SEED.exists():
        return {}
    with KPI_SCORECARD_SEED.open(encoding="utf-8") as fh:
        return {
            row["kpi"].strip(): (
                (row.get("label_zh") or "").strip(),
                (row.get("label_en") or "").strip(),
            )
            for row in csv.DictReader(fh)
        }


def company_timezone() -> str:
    return os.environ.get("SALESPERF_TIMEZONE") or company_settings()["timezone"]


def company_currency() -> str:
    return company_settings()["currency"]
