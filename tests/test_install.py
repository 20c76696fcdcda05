"""What `make setup` leaves behind."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.mark.parametrize("module", ["great_expectations", "dbt.cli.main", "airflow"])
def test_the_heavy_libraries_are_installed_with_bytecode(module):
    """`make setup` compiles the libraries once (uv --compile-bytecode). Where
    PYTHONDONTWRITEBYTECODE is set, as on CI, Python would otherwise compile every library
    again in every process: 3.5 s of each Great Expectations import, 1.4 s of each dbt start."""
    source = importlib.util.find_spec(module).origin
    cached = Path(importlib.util.cache_from_source(source))
    assert cached.exists(), (
        f"{module} has no compiled bytecode ({cached}); reinstall with "
        "`rm .venv/.salesperf-installed && make setup`"
    )
