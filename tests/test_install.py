"""What `make setup` leaves behind."""

from __future__ import annotations

import importlib.util
import os
import subprocess
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


@pytest.mark.parametrize(("workers", "expected"), [(None, "-n auto"), ("0", "-n 0")])
def test_make_test_runs_the_suite_in_workers_a_file_each(workers, expected):
    """`make test` spreads the suite over one worker per core (TEST_WORKERS=0: one process),
    each test file whole on one worker, so a module's warehouse fixture is built once."""
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in {"TEST_WORKERS", "PYTEST_ARGS"}}
    if workers is not None:
        env["TEST_WORKERS"] = workers
    out = subprocess.run(
        ["make", "-n", "test", "PYTEST_ARGS=-x"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [line] = [ln for ln in out.splitlines() if "-m pytest" in ln]
    assert f"{expected} --dist loadfile -x" in line, line
