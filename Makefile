# promptreg developer entry points. Every target creates and uses its own .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	@# Checkouts older than the rename installed this project as `promptreg`; remove it so the two
	@# distributions do not both provide the `promptreg` command.
	$(BIN)/python -m pip uninstall --quiet --yes promptreg 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# In parallel on every core; most CLI tests run the entry point in-process, a thin layer runs
# the real interpreter (PROMPTREG_TEST_SUBPROCESS=1 runs them all in subprocesses).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check registry tests benchmarks scripts
	$(BIN)/ruff format --check registry tests benchmarks scripts
	$(BIN)/mypy

# Editors validate as you type: the real yaml-language-server (installed into .cache/ on first
# use, offline afterwards) against a registry made by `promptreg init`.
.PHONY: editor-check
editor-check: $(STAMP)
	$(BIN)/python scripts/editor-check.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
