# Two commands on a fresh machine: `make repro` (the pipeline) and `make test` (the suite).
# Both run `setup` first, which is a no-op once the virtualenv matches pyproject.toml.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
DVC    := $(VENV)/bin/dvc
STAMP  := $(VENV)/.setup-done

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Nothing may reach the network at run time, and identical CPU runs must not stall (STACK.md: threads).
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1
export DVC_SITE_CACHE_DIR := $(CURDIR)/.dvc/tmp/site-cache
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help setup tesseract chromium repro repro-scale test bench push pull lint clean distclean

help:
	@echo "make repro   run the DVC pipeline (dvc repro) on the params in params.yaml"
	@echo "make repro-scale [VARIANT=outcome_gated]   the same pipeline at scale, as a DVC experiment"
	@echo "make test    run the test suite"
	@echo "make bench   print speed/memory ratios measured side by side"
	@echo "make push    push DVC-tracked outputs to the default remote;  make pull  fetch them"
	@echo "make lint    ruff;  make clean  remove stage outputs;  make distclean  also the virtualenv"

setup: $(STAMP) tesseract chromium

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -c "import torch; assert torch.__version__.endswith('+cpu'), torch.__version__"
	touch $@

# Debian's tesseract-ocr provides the engine and the English traineddata that tesserocr/pytesseract use.
tesseract:
	@command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's tesseract-ocr"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; \
	  else \
	    echo "error: Tesseract OCR is missing. Install it (Debian/Ubuntu: sudo apt-get install tesseract-ocr) and re-run." >&2; \
	    exit 1; \
	  fi; }

# Debian's chromium renders the report's review page headless in the tests (tests/test_review_page.py).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: Chromium is missing. Install it (Debian/Ubuntu: sudo apt-get install chromium) and re-run." >&2; \
	    exit 1; \
	  fi; }

repro: setup
	$(DVC) repro

# The same pipeline at a size whose intervals can separate the models (README, "The experiment at scale"):
# 13 rendered rounds a match (39 held-out test rounds of 3 matches, 31 training rounds), 1.5x the SFT
# steps and 2x the GRPO steps; VARIANT=outcome_gated trains C and D with the asymmetric reward instead.
# A DVC experiment in the workspace: `dvc exp show`, `dvc metrics diff main`; back to the default with
# `git restore params.yaml dvc.lock metrics && dvc checkout`.
SCALE   := -S 'render.rounds=[[1,5],[13,17],[-3,-1]]' -S sft.max_steps=600 -S grpo.max_steps=60 \
           -S counterfactual.rollouts=48
VARIANT ?= seed
repro-scale: setup
	$(DVC) exp run --name at-scale-$(VARIANT) $(SCALE) -S grpo.reward_variant=$(VARIANT)

test: setup
	$(PY) -m pytest -n 2 --dist loadfile -q

bench: setup
	$(PY) -m chimera.bench

# Only on a machine with a GPU (nothing else depends on it): record its figures in the README.
gpu-smoke: setup
	$(PY) -m chimera.smoke configs/qwen3-vl-8b.json

push: setup
	$(DVC) push

pull: setup
	$(DVC) pull

lint: setup
	$(VENV)/bin/ruff check chimera stages tests

clean:
	rm -rf data/parsed data/raw/vods data/sync data/pairs data/grpo data/predictions/*.jsonl
	rm -rf models/base models/sft models/sft-checkpoints models/grpo_C models/grpo_D
	rm -rf .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
