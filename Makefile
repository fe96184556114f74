# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test e2e screenshots lint format bench eval load cluster clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dossier init
	$(BIN)/dossier run

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Tests run in parallel (pytest-xdist, one worker per core; TEST_WORKERS=0 runs them in one
# process). Each worker has its own PostgreSQL database beside DOSSIER_TEST_DATABASE_URL's.
# A worker that runs out of tests takes some of the other's (worksteal: no idle core while one
# worker still queues a slow harness). The 25 slowest tests are listed at the end, for whoever
# keeps CI inside its time.
TEST_WORKERS ?= auto
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

# The browser suite: a real server (dossier init + run) driven by Debian's Chromium
# (/usr/bin/chromium; Playwright never downloads a browser). Screenshots go to build/screenshots;
# `make screenshots` runs the same suite and writes the README's pictures to docs/screenshots.
e2e: $(STAMP)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

screenshots: $(STAMP)
	DOSSIER_SCREENSHOTS=$(CURDIR)/docs/screenshots $(MAKE) e2e

# Benchmarks print numbers; they are never timed tests. BENCH_SIZES=1000,10000 for a quick run.
# bench_ingest.py: `dossier import` of the CUAD PDFs, pages/s and the split of its time.
# BENCH_BACKEND=whoosh,postgres measures the PostgreSQL search backend beside the embedded one, in
# schemas bench_<size> of BENCH_DATABASE_URL.
BENCH_SIZES ?= 1000,10000,100000
BENCH_BACKEND ?= whoosh
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: $(STAMP)
	$(BIN)/python scripts/bench_search.py --sizes $(BENCH_SIZES) --backend $(BENCH_BACKEND) \
		--database-url $(BENCH_DATABASE_URL)
	$(BIN)/python scripts/bench_pages.py
	$(BIN)/python scripts/bench_ingest.py

# Clause search against fixed yardsticks (one to two minutes): CUAD from its text files and as PDFs
# through `dossier import`, and the judged Dutch queries of eval/dutch_queries.toml; then the
# clause-type classifier against CUAD's annotations. EVAL_ARGS=-v prints the Dutch scores per query.
eval: $(STAMP)
	$(BIN)/python scripts/eval_clauses.py
	$(BIN)/python scripts/eval_dutch.py $(EVAL_ARGS)
	$(BIN)/python scripts/eval_clause_types.py

# Load test on 127.0.0.1 (bounded in time and requests): web processes, a worker, 30 clients;
# prints throughput, latency percentiles and errors, then `dossier verify`. Exit 1 on a fault.
LOAD_ARGS ?= --clients 30 --duration 60
load: $(STAMP)
	$(BIN)/python scripts/load_test.py $(LOAD_ARGS)

# Several nodes on 127.0.0.1 (bounded): a fresh PostgreSQL database (data and search), SeaweedFS
# (blobs), Redis (rate limits), two web nodes and two workers with separate instance folders;
# one web node and one worker are SIGKILLed and restarted under load. Exit 1 on a fault.
CLUSTER_ARGS ?= --clients 20 --duration 60
cluster: $(STAMP)
	$(BIN)/python scripts/cluster.py $(CLUSTER_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info

# Interface texts: extract the English msgids, merge them into every catalog, compile the .mo
# files that ship in the package. Translate new or fuzzy entries in the .po, then run this again.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -c TRANSLATORS: \
		--project=Dossier --copyright-holder="the Dossier authors" \
		-o dossier/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i dossier/translations/messages.pot \
		-d dossier/translations
	$(BIN)/pybabel compile --statistics -d dossier/translations
