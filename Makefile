# The two commands of the README:
#   make run   — set up and run the product on its embedded default (SQLite, in-process Redis, the
#                WeCom simulator and a scripted scenario, then keeps serving on http://127.0.0.1:8000)
#   make test  — set up and run the tests (needs PostgreSQL and Redis on loopback; .ci/run starts them)
PYTHON ?= python3
VENV ?= .venv
PIP = $(VENV)/bin/pip
BIN = $(VENV)/bin

.PHONY: setup setup-test run test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

setup: $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt -e .

setup-test: $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt -e ".[test]"

run: setup
	$(BIN)/advisor-bot db upgrade
	$(BIN)/advisor-bot demo --port 8000 --keep-running

test: setup-test
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -m "not slow" -p no:cacheprovider

bench: setup-test
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m tests.benchmarks.bench_intake --rates 100,500,1000,1500 --seconds 10

clean:
	rm -rf $(VENV) var build *.egg-info
