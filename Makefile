# The two commands of the README: `make demo` (install + run the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench install mutation

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

# Mutation testing of the pure domain rules ([tool.mutmut] in pyproject.toml): a developer
# tool, CPU heavy, not part of CI. Survivors are listed at the end; the ones judged
# equivalent are explained in docs/mutation.md. `make mutation ARGS="callrouter.calendar*"`
# runs one module; `.venv/bin/mutmut show NAME` prints a mutant's diff.
mutation: install
	rm -rf mutants
	nice -n 19 $(BIN)/mutmut run $(ARGS)
	$(BIN)/mutmut results
