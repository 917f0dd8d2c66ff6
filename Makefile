# Two commands for a fresh machine with Python 3.13, git and make:
#   make run   - install and run the whole site on embedded defaults
#   make test  - install and run the whole test suite (with ruff and mypy)

PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= $(CURDIR)/var
export PORT DATA_DIR

.PHONY: run test install install-dev lint messages clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

install: $(VENV)/.base-installed

install-dev: $(VENV)/.dev-installed

# The Procfile's welcome process prints the addresses and the demo login once the site answers
# (honcho gives every process its own PORT, so the web process's port travels as WEB_PORT).
run: install
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_articles
	$(BIN)/python manage.py seed_supportline
	WEB_PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho --procfile Procfile start --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint
	$(BIN)/pytest

# End-to-end chat benchmark beside the Channels tutorial chat (docs/benchmarks.md); not part of `make test`.
# Needs DATABASE_URL (PostgreSQL; its support line is emptied, so the name must contain "bench") and REDIS_URL.
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--saturate --chats 100".
bench: install-dev
	$(BIN)/python bench/chat_e2e.py $(BENCH_ARGS)

# Regenerate the English catalogue after changing Swedish source strings.
messages: install-dev
	$(BIN)/python manage.py makemessages --locale en --no-obsolete --no-location --ignore "$(VENV)/*" --ignore "var/*"
	$(BIN)/python manage.py compilemessages --locale en --ignore "$(VENV)/*"

clean:
	rm -rf var/ .mypy_cache .ruff_cache .pytest_cache
