# Two commands for a fresh machine:
#   make run   installs what the main job needs, runs the strategy comparison and builds its report
#   make test  installs what the tests need (Chromium included) and runs the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test install browser lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }
	@# Solara's browser files, which it otherwise fetches from its CDN (none here): from npm into its cache
	@for p in @widgetti/solara-vuetify3-app@5.2.0 requirejs@2.3.6 font-awesome@4.5.0; do \
	  d="$(VENV)/share/solara/cdn/$$p"; [ -d "$$d" ] || { t="$$(mktemp -d)" && (cd "$$t" && npm pack --silent "$$p" >/dev/null) \
	  && mkdir -p "$$d" && tar xzf "$$t"/*.tgz -C "$$d" --strip-components=1; }; done

# the main job: every strategy over 50 posterior draws x 2 seeds (parameter and seed uncertainty),
# then the report (rerunning resumes)
run: $(STAMP_RUN)
	$(BIN)/sim batch experiments/strategy_comparison_uncertainty.toml --out results/strategy_comparison_uncertainty --resume
	$(BIN)/sim report results/strategy_comparison_uncertainty
	@echo "Report: results/strategy_comparison_uncertainty/report/report.html"

# the suite on TEST_WORKERS processes (pytest-xdist); a test file stays on one process, so its
# module fixtures (the dashboard server, the browser) start once
TEST_WORKERS ?= 2
test: $(STAMP_TEST) browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP_TEST)
	$(BIN)/ruff check sim tests benchmarks

# speed of one run, then the batch runner against mesa.batch_run, 2 workers vs 1, memory, then
# sim report on the 210-run comparison and the dashboard's Step on the server
# (BENCH="--large --sobol" adds 100,000 short runs and Sobol N=1024 over 10 parameters: long)
bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/batch.py $(BENCH)
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/app.py --no-browser

clean:
	rm -rf $(VENV) results reports .pytest_cache
