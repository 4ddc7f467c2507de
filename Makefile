# Two commands for a newcomer (see README.md): `make report` and `make test`.
# Both create .venv/ with everything they need on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PARAMS ?= params/demo.yaml

.PHONY: report audit test test-fast lint browser bench rule clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## report: the quarterly audit PARAMS describes (default: the built-in synthetic demo) into reports/
report: $(BIN)/.installed browser
	$(BIN)/rfd-audit run $(PARAMS)

## audit: the same as report
audit: report

## test: lint, format check, then every test
test: lint browser
	$(BIN)/python -m pytest

## test-fast: the spec and unit tests only (about a minute), while working
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "spec or unit" -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## browser: Chromium and its headless shell (PDF printing, browser tests) and poppler-utils (pdftotext), from
## Debian where apt is available and nothing is installed yet; otherwise reports are HTML only.
browser:
	@if command -v chromium-headless-shell >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium, chromium-headless-shell and poppler-utils (once)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell poppler-utils >/dev/null; \
	else echo "no Chromium found and apt-get not usable: PDFs will be skipped (HTML is still made)"; fi
	@command -v pdftotext >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; } || true

## bench: the speed figures (prints them; several minutes)
bench: $(BIN)/.installed browser
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_report.py

## rule: show the packaged rule's criteria and provenance
rule: $(BIN)/.installed
	$(BIN)/rfd-audit rule

clean:
	rm -rf $(VENV) reports/example reports/demo reports/synthetic-extracts benchmarks/data .pytest_cache .ruff_cache .hypothesis
