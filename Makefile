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
	$(BIN)/python bench/appointments.py
	$(BIN)/python bench/console_latency.py
	$(BIN)/python bench/pin_spray.py

# Mutation testing of the pure domain rules ([tool.mutmut] in pyproject.toml): a developer
# tool, CPU heavy, not part of CI. Fails when a mutant survives that docs/mutation.md does
# not list as equivalent (or as not killed yet). One module:
# `make mutation ARGS="callrouter.calendar.windows*"`; a mutant's diff: `mutmut show NAME`.
mutation: install
	rm -rf mutants
	nice -n 19 $(BIN)/mutmut run $(ARGS)
	$(BIN)/mutmut results \
		| grep -v -e ': timeout$$' -e ': caught by type check$$' -e ': not checked$$' \
		| sed 's/^ *//; s/: .*//' > mutants/survivors.txt
	grep -o '`callrouter\.[^`]*__mutmut_[0-9]*`' docs/mutation.md | tr -d '`' > mutants/judged.txt
	@if grep -v -x -F -f mutants/judged.txt mutants/survivors.txt; then \
		echo "^ survived, and docs/mutation.md does not list them"; exit 1; fi
	@echo "$$(wc -l < mutants/survivors.txt) surviving mutants, all listed in docs/mutation.md"
