# Kestrel: the two commands are `make up` (run the platform locally) and `make test` (everything CI checks).
# Both install what they need on a fresh machine and are safe to run again.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.kestrel-installed
NODE_STAMP := node_modules/.kestrel-installed
# The screenshot engine's Chromium, unpacked from npm's @sparticuz/chromium (shared/screenshots/chromium.py).
CHROMIUM := .state/chromium/chromium
PYTHON_SOURCES := shared functions kestrel_local migrations tests nlp_service

.DEFAULT_GOAL := help
.PHONY: help setup up down test lint typecheck pytest test-unit test-integration test-local-stack test-packaging test-e2e \
	test-nlp-service package bench-local bench-ingest bench-bulk-parse bench-reports bench-crawl bench-nlp bench-ranks bench-ranks-items bench-ranks-screenshots fmt clean

help:
	@echo "make up        run the whole platform locally (gateway, workers, schedules, alarms) with demo data"
	@echo "make down      stop a stack started with \`kestrel up --detach\`"
	@echo "make test      lint, types and every test suite, one after the other (what CI runs)"
	@echo "make test-unit the fast loop: pure unit tests, no PostgreSQL or emulator (seconds)"
	@echo "make test-integration | test-local-stack | test-packaging | test-e2e   one suite of tests/"
	@echo "make test-nlp-service the NLP service's own tests (nlp_service/tests: the app, S3 in moto, the process)"
	@echo "make package   package the dev and prod stacks (npx sls package) into .serverless-<stage>/"
	@echo "make bench-local  the local stack's overhead: queue runner and HTTP gateway vs direct calls"
	@echo "make bench-ingest Search Console ingestion: 3M rows through gsc_ingest vs psql \\copy and a naive ORM loader"
	@echo "make bench-bulk-parse Search Console bulk-export parsing: the parser vs the one it replaced (bench/bulk_before)"
	@echo "make bench-reports the reports API over the rollup aggregates vs the same reports straight from gsc_rows"
	@echo "make bench-crawl  a 2,000+ page crawl through page_crawl vs a bare fetch-and-parse loop of the same pages"
	@echo "make bench-nlp    the NLP service over HTTP: entities vs spaCy in-process, an LDA fit vs the same gensim call"
	@echo "make bench-ranks  both below, their figures on one line"
	@echo "make bench-ranks-items 1,000 keywords' depth-100 SERPs parsed and stored through rank_check (items per second)"
	@echo "make bench-ranks-screenshots screenshots per second in one warm environment vs a bare Playwright loop; cold start"
	@echo "make fmt       format the Python code"

$(VENV_STAMP): requirements.txt requirements-dev.txt pyproject.toml scripts/find-python312.sh
	@python312="$$(scripts/find-python312.sh)" && \
	  if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
	    rm -rf $(VENV) && "$$python312" -m venv $(VENV); \
	  fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# No root and no Playwright browser download: the binary ships inside the npm package.
$(CHROMIUM): $(NODE_STAMP) scripts/chromium-path.mjs
	node scripts/chromium-path.mjs .state/chromium
	@touch $@

setup: $(VENV_STAMP) $(NODE_STAMP) $(CHROMIUM)

up: setup
	$(BIN)/kestrel up

down: setup
	$(BIN)/kestrel down

lint: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV_STAMP)
	$(BIN)/mypy $(PYTHON_SOURCES)

# The suites, each a directory of tests/ with its own conftest (see tests/*/conftest.py).
TEST_SUITES := test-unit test-integration test-local-stack test-packaging test-e2e test-nlp-service

test-unit: $(VENV_STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(VENV_STAMP) $(CHROMIUM)
	$(BIN)/pytest tests/integration

test-local-stack: setup
	$(BIN)/pytest tests/local_stack

test-packaging: setup
	$(BIN)/pytest tests/packaging

test-e2e: setup
	$(BIN)/pytest tests/e2e

# The NLP service's suite lives with the service (nlp_service/tests; its conftest puts nlp_service/ on sys.path).
test-nlp-service: $(VENV_STAMP)
	$(BIN)/pytest nlp_service/tests

# Every suite, without lint and types.
pytest: $(TEST_SUITES)

test: lint typecheck $(TEST_SUITES)

package: setup
	for stage in dev prod; do npx sls package --stage $$stage --package .serverless-$$stage || exit 1; done

bench-local: setup
	$(BIN)/python -m bench.bench_local

bench-ingest: setup
	$(BIN)/python -m bench.bench_ingest

bench-bulk-parse: setup
	$(BIN)/python -m bench.bench_bulk_parse

bench-reports: setup
	$(BIN)/python -m bench.bench_reports

bench-crawl: setup
	$(BIN)/python -m bench.bench_crawl

bench-nlp: setup
	$(BIN)/python -m bench.bench_nlp

bench-ranks-items: setup
	$(BIN)/python -m bench.ranks_items

bench-ranks-screenshots: setup
	$(BIN)/python -m bench.ranks_screenshots

bench-ranks: setup
	$(BIN)/python -m bench.ranks

fmt: $(VENV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf .serverless .serverless-* .pytest_cache .mypy_cache .ruff_cache
