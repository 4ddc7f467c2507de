# Two commands for a newcomer (see README.md): `make report` and `make test`; `make lab` opens the
# report notebooks in JupyterLab. Each creates .venv/ with what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PARAMS ?= params/demo.yaml
# The kernel the notebooks name (rfd_lib.report.notebook_runner.KERNEL_NAME): .venv's own Python.
KERNEL := $(VENV)/share/jupyter/kernels/rfd-audit/kernel.json
LAB_ARGS ?=

.PHONY: report audit lab test test-fast lint browser bench bench-national rule clean

# What an analyst needs: rfd-audit, its dependencies and JupyterLab (the `lab` extra).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

# ... and a developer's tools on top (the `dev` extra): tests, lint, pre-commit, benchmarks; and
# pyspark (the `spark` extra), so that `make test` runs tests/spark (Java: `.ci/run` or your own).
$(BIN)/.dev-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[lab,dev,spark]'
	touch $@

# The notebooks' kernel, registered inside .venv (--sys-prefix): a kernel of the same name
# elsewhere (--user, a conda base) is never the one the notebooks start.
$(KERNEL): $(BIN)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name rfd-audit --display-name rfd-audit

## report: the quarterly audit PARAMS describes (default: the built-in synthetic demo) into reports/
report: $(BIN)/.installed browser
	$(BIN)/rfd-audit run $(PARAMS)

## audit: the same as report
audit: report

## lab: JupyterLab on notebooks/, the notebooks running in .venv's Python (Ctrl-C twice to stop);
## LAB_ARGS passes options on, e.g. make lab LAB_ARGS="--no-browser --port 8890"
lab: $(BIN)/.installed $(KERNEL)
	@$(BIN)/jupyter lab --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet -e '.[lab]'
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

## test: lint, format check, then every test
test: lint browser
	$(BIN)/python -m pytest

## test-fast: the spec and unit tests only (about a minute), while working
test-fast: $(BIN)/.dev-installed
	$(BIN)/python -m pytest -m "spec or unit" -q

lint: $(BIN)/.dev-installed
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
bench: $(BIN)/.dev-installed browser
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_report.py

## bench-national: 40 million spells (about 6 GB of CSV, written once to benchmarks/data/): time and
## peak memory of the local engine, DuckDB and Spark local[2] (tens of minutes)
bench-national: $(BIN)/.dev-installed
	$(BIN)/python benchmarks/bench_national.py --spark

## rule: show the packaged rule's criteria and provenance
rule: $(BIN)/.installed
	$(BIN)/rfd-audit rule

clean:
	rm -rf $(VENV) reports/example reports/demo reports/synthetic-extracts benchmarks/data .pytest_cache .ruff_cache .hypothesis
