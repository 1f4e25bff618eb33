# Connector Kit: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := python/pyproject.toml $(wildcard emulators/pyproject.toml materialize-duckdb/pyproject.toml source-*/pyproject.toml)
EDITABLES := -e 'python[dev]' $(patsubst %/pyproject.toml,-e %,$(filter-out python/pyproject.toml,$(PACKAGES)))

.PHONY: install demo test lint typecheck pytest bench clean

$(STAMP): $(PACKAGES) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt $(EDITABLES)
	touch $(STAMP)

install: $(STAMP)

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash demo/demo.sh

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash bench/run.sh

clean:
	rm -rf $(VENV) .connector-kit .pytest_cache .mypy_cache .ruff_cache
