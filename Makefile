# Two commands for a newcomer (see README.md): `make audit` and `make test`.
# Both create .venv/ with everything they need on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: audit test lint bench rule clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## audit: write the built-in synthetic extracts and classify them (the reports land with issues 4-5)
audit: $(BIN)/.installed
	$(BIN)/rfd-audit demo

## test: lint, format check, then every test
test: lint
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: the speed figures of the rule engine and of reading extracts (prints them; a few minutes)
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_extract.py

## rule: show the packaged rule's criteria and provenance
rule: $(BIN)/.installed
	$(BIN)/rfd-audit rule

clean:
	rm -rf $(VENV) reports/example reports/demo reports/synthetic-extracts benchmarks/data .pytest_cache .ruff_cache .hypothesis
