# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/two-accounts.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

.PHONY: install demo test lint typecheck check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml service/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24,<26"
	$(BIN)/pip install --quiet -e ./service -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/meshlink -f $(EXAMPLE) validate
	$(BIN)/meshlink -f $(EXAMPLE) graph

lint: install
	$(BIN)/ruff check src service/src tests bench
	$(BIN)/ruff format --check src service/src tests bench

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
