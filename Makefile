# Two commands a newcomer needs (README, Quick start):
#   make reproduce   every analysis of the study on the shipped data -> results/
#   make test        the test suite (what CI runs)
# Each sets up .venv from requirements.lock on first use.

PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= results

.PHONY: reproduce test test-slow notebooks lock clean

$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "bayes-igf1 needs Python 3.12 or newer on PATH (python3.12 or python3)." >&2; exit 2; fi
	@echo "Setting up $(VENV) with $(PYTHON) from requirements.lock (first use only, about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/bayes-igf1 reproduce --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Run every notebook with its stored parameters (full fits, about ten minutes) and store its outputs.
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py

# Re-resolve the newest versions allowed by pyproject.toml and write them to requirements.lock.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[test]" pytest-timeout
	( echo "# Exact versions installed by \`make\` (see README, \"Updating the lock file\"). Generated with pip freeze on Python 3.12."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^bayes.igf1' ) > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) $(OUT)
