# The documented commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest-xdist processes for `make test` (each loads the model once; 2 fits this 2-core machine)
TEST_WORKERS ?= 2

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export WERKMATCH_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup run test lint format demo clean-data postgres bench browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build; an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)  ## create .venv with the werkmatch command

run: setup  ## migrate, load the demo data and serve on http://$(HOST):$(PORT)
	$(BIN)/werkmatch migrate
	$(BIN)/werkmatch demo
	$(BIN)/werkmatch keys demo --url http://$(HOST):$(PORT)
	$(BIN)/werkmatch serve --host $(HOST) --port $(PORT)

postgres:  ## start the local PostgreSQL cluster if it is not running
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  { command -v pg_ctlcluster >/dev/null && \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; } || true

browser:  ## install Debian's chromium for the browser tests if it is missing (needs root)
	@test -x /usr/bin/chromium || \
	  { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }

test: setup postgres browser  ## lint, then the whole test suite on SQLite and PostgreSQL
	$(BIN)/ruff check .
	$(BIN)/mypy matching service
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

lint: setup  ## ruff, and mypy: strict on matching/, checked on service/ (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy matching service

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup  ## national-scale benchmark (docs/scale.md); installs wrk for the HTTP load
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk || \
	  { apt-get update && apt-get install -y --no-install-recommends wrk; } || \
	  echo "wrk unavailable: the HTTP part falls back to a Python client (labelled in its JSON)"
	$(BIN)/werkmatch bench --sizes 10000,100000,1000000 --http-sizes 10000,100000,1000000 --serve-sizes 100000,1000000 --json

clean-data:  ## remove the local SQLite database and index files
	rm -rf var
