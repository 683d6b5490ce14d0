# Tasks for contributors: `make test`, `make lint`, `make format`, `make typecheck`, `make check`.
# PostgreSQL and Redis tests run when these point at servers (CI sets them); they skip otherwise.
PY ?= .venv/bin/python

.PHONY: venv test lint format typecheck check snapshots bench

venv:  ## a virtual environment with every extra
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[team,langgraph,mcp,otel,dev]'

test:  ## the whole suite, in three processes
	$(PY) -m pytest -q -n 3

lint:  ## ruff lint and the format check CI runs
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format:  ## rewrite files in the house format
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

typecheck:  ## mypy over agentlog/ ([tool.mypy] in pyproject.toml)
	$(PY) -m mypy

check: lint typecheck test  ## what .ci/run checks, in this venv

snapshots:  ## accept changed TUI snapshots (review the diff before committing)
	$(PY) -m pytest -q tests/tui --snapshot-update

bench:  ## the store benchmarks at 1/10 size (see bench/RESULTS.md for the full runs)
	$(PY) bench/bench_store.py --quick
