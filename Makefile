# The two commands: `make demo` (the main job, end to end) and `make test` (the whole suite).
# Both install what they need first; installing again is a no-op when nothing changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.salesperf-installed
UV_VERSION := 0.13.8
SIZE ?= small
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export SALESPERF_HOME := $(CURDIR)
export SCARF_ANALYTICS := false
export DO_NOT_TRACK := 1

.PHONY: setup demo test lint format airflow stop lock bench preview clean

setup: $(STAMP)

# --compile-bytecode: .pyc files written once, here. Where PYTHONDONTWRITEBYTECODE is set (it
# is on this project's CI machines) Python never writes them, and every process compiled
# the libraries it imports again: 3.5 s of every import of Great Expectations, 1.4 s of
# every dbt start (the CLI, the bench; Cosmos runs dbt in-process).
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(BIN)/salesperf demo

# The suite runs in parallel workers (pytest-xdist), one per core by default; a test file
# goes whole to one worker (--dist loadfile), so a module's warehouse fixture is built once.
# Every test works in databases of its own, so workers never share data. TEST_WORKERS=0
# runs everything in this one process (e.g. to use a debugger).
TEST_WORKERS ?= auto

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

airflow: setup
	$(BIN)/salesperf airflow-standalone

stop: setup
	$(BIN)/salesperf stop

bench: setup
	$(BIN)/salesperf bench --size $(SIZE)

preview: setup
	$(BIN)/salesperf preview

# Re-resolve requirements.in into exact pins (needs the package registry).
lock: setup
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --no-header -o requirements.lock

clean: stop
	rm -rf .local dbt_project/target dbt_project/logs
