# ogp-feedback: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := $(CURDIR)/var/demo
export OGP_DEMO_DATABASE_URL ?= sqlite:///$(DEMO_DIR)/ogp-feedback.db

.PHONY: help install lock audit demo test test-fast lint bench bench-queue bench-digest clean

# The lock: uv.lock (every platform and Python the project allows), exported as hashed
# requirements files that pip installs exactly; `make lock` regenerates all three.
LOCK_TEST := requirements/test.txt
LOCK_RUNTIME := requirements/runtime.txt
# Tools that work on the lock live in their own venv, so the project's stays exactly locked.
TOOLS := .venv-tools
UV_VERSION := 0.13.8
PIP_AUDIT_VERSION := 2.10.1

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/ogp-feedback: pyproject.toml $(LOCK_TEST)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# Exactly the locked versions (runtime and the test extra), each checked by its hash;
	@# then the project itself, editable, adding nothing.
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK_TEST)
	$(BIN)/pip install --quiet --no-deps -e '.[test]'
	$(BIN)/pip check
	@touch $@

install: $(BIN)/ogp-feedback ## create .venv and install the locked dependencies and the project

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION) pip-audit==$(PIP_AUDIT_VERSION)

lock: $(TOOLS)/bin/uv ## resolve pyproject.toml again into uv.lock and requirements/*.txt
	$(TOOLS)/bin/uv lock --python 3.11
	$(TOOLS)/bin/uv export --frozen --no-emit-project --no-dev --format requirements-txt \
	  --quiet -o $(LOCK_RUNTIME)
	$(TOOLS)/bin/uv export --frozen --no-emit-project --no-dev --extra test \
	  --format requirements-txt --quiet -o $(LOCK_TEST)

audit: $(TOOLS)/bin/uv ## pip-audit the locked versions (needs the PyPI JSON API or OSV)
	@# pip-audit says "could not be audited" when it cannot reach a vulnerability database:
	@# that is not a clean bill, so say so and fail with status 2.
	@set -o pipefail; out=$$($(TOOLS)/bin/pip-audit --strict --disable-pip --require-hashes \
	  -r $(LOCK_TEST) 2>&1); status=$$?; echo "$$out"; \
	if grep -q "could not be audited" <<<"$$out"; then \
	  echo "make audit: no vulnerability database answered from this machine (PyPI's JSON API" \
	       "or OSV); nothing was checked. Run 'make audit' where one can be reached." >&2; \
	  exit 2; fi; exit $$status

demo: install ## load the sample mailbox into SQLite, publish, serve on 127.0.0.1:8000
	@mkdir -p $(DEMO_DIR)
	OGP_DATABASE_URL=$${OGP_DATABASE_URL:-$(OGP_DEMO_DATABASE_URL)} \
	OGP_SITE_DIR=$${OGP_SITE_DIR:-$(DEMO_DIR)/site} \
	$(BIN)/ogp-feedback demo --host 127.0.0.1 --port $${PORT:-8000}

test: install ## install and start Dovecot, Redis, PostgreSQL; run the whole suite
	bash tests/services/ensure.sh
	PYTEST=$(BIN)/pytest bash tests/run-suite.sh

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
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
