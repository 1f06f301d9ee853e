# cxkit — two commands on a fresh machine: `make report`, `make test`.
# Every target creates .venv and installs the kit into it when needed (a second run is fast).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/sample
OUT    ?= reports
LAB_ARGS ?=

.PHONY: help install report test test-fast doctest lab sample bench lint format clean

help:
	@echo "make report   run every notebook on $(DATA) and write HTML reports to $(OUT)/"
	@echo "make test     run the test suite (about 7–10 minutes on 2 cores)"
	@echo "make test-fast  the tests not marked slow (a few minutes)"
	@echo "make lab      open JupyterLab on notebooks/ with the kit's kernel"
	@echo "make sample   regenerate data/sample with the simulator"
	@echo "make bench    speed benchmarks against DuckDB / chdb"
	@echo "make lint     ruff check + format check"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,clv,duckdb]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (cxkit)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/cxkit report --data $(DATA) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=10

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

doctest: $(STAMP)
	$(BIN)/python -m pytest -q --doctest-modules cxkit

lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab $(LAB_ARGS)

sample: $(STAMP)
	$(BIN)/cxkit simulate --out data/sample --customers 3000 --seed 7

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,duckdb]'
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check cxkit tests benchmarks notebooks
	$(BIN)/ruff format --check cxkit tests benchmarks notebooks

format: $(STAMP)
	$(BIN)/ruff format cxkit tests benchmarks notebooks

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
