# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench install install-test clean

$(BIN)/berth: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.test-deps: pyproject.toml $(BIN)/berth
	$(BIN)/pip install -q -e '.[test,dev]'
	@touch $@

install: $(BIN)/berth

install-test: $(VENV)/.test-deps

## Start berth on the embedded defaults (127.0.0.1:5000, SQLite and a local folder).
run: $(BIN)/berth
	$(BIN)/berth serve

## Install what the tests need, start the services they use, run the whole suite.
test: install-test
	scripts/install-system-packages.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## Side-by-side benchmark against the CNCF Distribution registry (docker-registry).
bench: install-test
	scripts/install-system-packages.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
