# Two set-up commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
# Where this kind of machine keeps the CPU build of torch 2.13.0 (PyPI's is a multi-GB CUDA build).
LOCAL_WHEELS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# Every install comes from the lock (versions and hashes); `make lock` refreshes it.
LOCK := requirements.lock
PIP_VERSION := 26.3
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--no-header $(LOCAL_WHEELS)

.PHONY: demo test lint format clean lock

$(STAMP): $(LOCK) pyproject.toml Makefile
	# a changed lock makes the environment anew, so it holds the lock and nothing else
	if [ -n "$(filter $(LOCK),$?)" ]; then rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	# llama-cpp-python compiles from source the first time on a machine (~10 min on 2 cores)
	$(BIN)/python -m pip install $(LOCAL_WHEELS) --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

# Resolves pyproject.toml's ranges ([dev,ray] included) to the newest versions, with hashes.
lock:
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra ray $(LOCK_FLAGS) -o $(LOCK).resolved
	$(BIN)/uv pip compile lock-no-deps.in --no-deps $(LOCK_FLAGS) -o $(LOCK).no-deps
	{ echo "# Written by \`make lock\` (uv pip compile): the default install, [dev,ray] included,"; \
	  echo "# then lock-no-deps.in. Installed with --require-hashes --no-deps by make demo/test."; \
	  cat $(LOCK).resolved $(LOCK).no-deps; } > $(LOCK)
	rm -f $(LOCK).resolved $(LOCK).no-deps

demo: $(STAMP)
	$(BIN)/refusalkit quickstart

test: $(STAMP)
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && $(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
