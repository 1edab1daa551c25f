# quizapp: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app quizapp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format install install-test clean help

help:
	@echo "make run    install, migrate, load demo content, serve on http://$(HOST):$(PORT)"
	@echo "make test   install test tools, Chromium and nginx, run the suite on SQLite and PostgreSQL"
	@echo "make lint   ruff check and ruff format --check"
	@echo "make bench  benchmarks (bank check/import on SQLite and PostgreSQL; autosave under load with wrk against a bare INSERT app; leaderboard page and CSV over 100,000 attempts; item statistics and a regrade over 10,000 attempts of 40 questions; the intake load scenario); writes bench/results.json"
	@echo "make bench-load  only the intake load scenario: candidates take the screening quiz at 100 to 1,000 at once"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package metadata changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Serving quizapp on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

test: install-test
	scripts/ensure-chromium
	scripts/ensure-nginx
	$(BIN)/python scripts/run_tests.py

# Starts (and stops again) the local PostgreSQL if it is down; see docs/performance.md.
.PHONY: bench bench-load
bench: install-test
	scripts/ensure-wrk
	$(BIN)/python -m bench.run

# Only the intake load scenario (Locust, gunicorn, PostgreSQL, Redis): docs/performance.md.
bench-load: install-test
	$(BIN)/python -m bench.run load

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
