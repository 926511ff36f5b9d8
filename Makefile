# newsbrief: set up, brief, test, record. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds

.PHONY: seeds test lint record clean

# No pip upgrade: the pip that `python -m venv` brings must install the project as it is.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# llama.cpp is built for this machine's CPU (-march=native) but without AMX: a virtual machine
# may advertise AMX tiles its kernel does not enable, and the first completion then crashes.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'

# The embedded model: builds llama-cpp-python from source on first install (about 10 minutes;
# --no-cache-dir: never reuse a wheel built earlier with other flags).
$(VENV)/.local: $(BIN)/python pyproject.toml
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q --no-cache-dir -e '.[local,dev]'
	touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

## Brief the seed articles with the embedded local model.
seeds: $(VENV)/.local
	$(BIN)/brief $(SEEDS) || [ $$? -eq 1 ]  # 1: written, with a skipped article (listed)

## Lint, type-check and run the tests (replaying cassettes; no network, no model).
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

## Re-record every cassette against the real embedded model server.
record: $(VENV)/.local
	$(BIN)/pytest --record-mode=rewrite

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
