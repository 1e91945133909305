# The two commands of the README: `make demo` (install + run the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/callrouter demo $(ARGS)

test: install
	$(BIN)/pytest $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src
	bash .ci/lint-dialplans

bench: install
	$(BIN)/python bench/ami_parser.py
	$(BIN)/python bench/ami_ingest.py
	$(BIN)/python bench/routing_latency.py
	$(BIN)/python bench/ledger_debits.py
	$(BIN)/python bench/pin_spray.py
