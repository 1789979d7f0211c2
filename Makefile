# ogp-feedback: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := $(CURDIR)/var/demo
export OGP_DEMO_DATABASE_URL ?= sqlite:///$(DEMO_DIR)/ogp-feedback.db

.PHONY: help install demo test test-fast lint bench bench-queue bench-digest clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/ogp-feedback: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/ogp-feedback ## create .venv and install the project into it

demo: install ## load the sample mailbox into SQLite, publish, serve on 127.0.0.1:8000
	@mkdir -p $(DEMO_DIR)
	OGP_DATABASE_URL=$${OGP_DATABASE_URL:-$(OGP_DEMO_DATABASE_URL)} \
	OGP_SITE_DIR=$${OGP_SITE_DIR:-$(DEMO_DIR)/site} \
	$(BIN)/ogp-feedback demo --host 127.0.0.1 --port $${PORT:-8000}

test: install ## install and start Dovecot, Redis, PostgreSQL; run the whole suite
	bash tests/services/ensure.sh
	$(BIN)/pytest -p no:cacheprovider --durations=25

lint: install ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/mypy config intake moderation publish workers

bench: install ## intake throughput against the test Dovecot and a real worker
	bash tests/services/ensure.sh
	$(BIN)/python bench/intake.py

bench-queue: install ## moderation queue latency over HTTP, 100,000 comments on PostgreSQL
	bash tests/services/ensure.sh
	$(BIN)/python bench/queue.py

bench-digest: install ## the digest of 100,000 comments on PostgreSQL (goal: under 10 s)
	bash tests/services/ensure.sh
	$(BIN)/python bench/digest.py

clean: ## remove the venv, demo data and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
