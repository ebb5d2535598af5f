# Two commands for a new machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app marketplace
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install dev migrate bench bench-search lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

## run: install, migrate the SQLite database in instance/, load demo data once, serve on 127.0.0.1:5000
run: install
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) demo load
	FLASK_DEBUG=1 $(FLASK) run --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set,
## in one process per core (TEST_WORKERS=0: in this process alone); PYTEST_ARGS picks tests.
## A worker that runs out of tests takes some of another's: a few tests take a minute.
TEST_WORKERS ?= auto
PYTEST = $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal
test: dev
	env -u TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	if [ -n "$$TEST_DATABASE_URL" ]; then $(PYTEST) $(PYTEST_ARGS); fi

## migrate: write a new migration after changing the models (review it before committing)
migrate: install
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) db migrate -m "$(m)"

## lint: the layering rule (README, "Layers"), checked by import-linter's contracts in pyproject.toml,
## and the type checks mypy is set to make there ([tool.mypy])
lint: dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m mypy

## bench: build the 100,000-job database under bench/ and print page costs, then each page's throughput
## at 16 connections against the bare route, on SQLite and on its copy in PostgreSQL (THROUGHPUT_POSTGRES)
THROUGHPUT_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1/bench_throughput
bench: dev
	$(BIN)/python bench/bench_pages.py
	$(BIN)/python bench/bench_throughput.py --postgres $(THROUGHPUT_POSTGRES)

## bench-search: search at 100,000 jobs on every engine, then 16 concurrent searches on the PostgreSQL
## backend through gunicorn (needs PostgreSQL: BENCH_POSTGRES, and wrk)
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1/bench_searchdb
bench-search: dev
	$(BIN)/python bench/bench_search.py --postgres $(BENCH_POSTGRES)
	$(BIN)/python bench/bench_concurrency.py --postgres $(BENCH_POSTGRES) --reuse-documents

clean:
	rm -rf $(VENV) .pytest_cache
