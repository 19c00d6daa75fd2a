# Set-up commands for a fresh machine (2 cores, CPU only). Each target makes its own venv.
PYTHON ?= python3
VENV   ?= .venv
BENCH_VENV ?= .venv-bench
TORCH_SPEC ?= torch==2.13.0
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) "$(TORCH_SPEC)"
	$(VENV)/bin/pip install $(PIP_FLAGS) -e ".[dev,torch,ray,plot,pandas]"
	touch $@

## The main job: a real search (TPE + ASHA over a PyTorch MLP on the digits dataset), stored
## in SQLite (symbo-demo.db); run it again to continue the study.
demo: $(VENV)/.installed
	$(VENV)/bin/symbo demo

## The whole test suite (including the slow tests) plus ruff.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check symbo tests examples benchmarks
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check symbo tests examples benchmarks

## Benchmarks against PyGlove 0.4.5 and Optuna, installed only in their own venv.
$(BENCH_VENV)/.installed: pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(BENCH_VENV)/bin/pip install $(PIP_FLAGS) "$(TORCH_SPEC)"
	$(BENCH_VENV)/bin/pip install $(PIP_FLAGS) -e . -r benchmarks/requirements.txt
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/core_bench.py
	$(BENCH_VENV)/bin/python benchmarks/dsl_bench.py
	$(BENCH_VENV)/bin/python benchmarks/search_bench.py
	$(BENCH_VENV)/bin/python benchmarks/scale_bench.py
	$(BENCH_VENV)/bin/python benchmarks/darts_bench.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) *.egg-info
