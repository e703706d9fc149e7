# Two commands matter: `make run` (install what is missing, start the assistant) and
# `make test` (install what is missing, run the test suite). Every step is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11 for the project, Python 3.10 for Rasa (Rasa 3.6 refuses 3.11).
# Set PYTHON or HELPLINE_RASA_PYTHON to an interpreter's path to choose one yourself.
PYTHON_311 = $(shell scripts/find-python 3.11 "$(PYTHON)")
PYTHON_310 = $(shell scripts/find-python 3.10 "$(HELPLINE_RASA_PYTHON)")

VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup run test test-fast lint nlu-validate nlu-eval kb-eval eval model train bench clean

help:
	@echo "make run        install what is missing, then start Rasa, the action server and the gateway"
	@echo "make test       install what is missing, then run lint and the whole test suite"
	@echo "make nlu-eval   intent accuracy, macro-F1 and confusion matrix on nlu/eval/"
	@echo "make kb-eval    policy answers: top-1 accuracy and null handling on knowledge/eval/"
	@echo "make eval       the blind rounds end to end through the REST webhook, one table (docs/evaluation.md)"
	@echo "make bench      print the performance figures"

$(APP_STAMP): requirements/app.txt requirements/dev.txt requirements/app.lock pyproject.toml
	@echo "==> Python 3.11 environment ($(VENV))"
	test -d $(VENV) || $(PYTHON_311) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements/app.txt -r requirements/dev.txt -c requirements/app.lock
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	@touch $@

$(RASA_STAMP): requirements/rasa.txt requirements/rasa.lock
	@echo "==> Python 3.10 environment for Rasa ($(RASA_VENV)); the first time takes a few minutes"
	test -d $(RASA_VENV) || $(PYTHON_310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q -r requirements/rasa.txt -c requirements/rasa.lock
	@touch $@

model: $(APP_STAMP)
	@echo "==> Embedding model"
	$(VENV)/bin/python -m helpline.e5_rebuild

train: $(APP_STAMP) $(RASA_STAMP)
	@echo "==> Rasa model"
	$(VENV)/bin/python -m helpline.rasa_model

setup: $(APP_STAMP) $(RASA_STAMP)
	@echo "==> Models, database and knowledge base"
	$(VENV)/bin/python -m helpline.run --prepare-only

run: $(APP_STAMP) $(RASA_STAMP)
	$(VENV)/bin/python -m helpline.run

lint: $(APP_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

nlu-validate: $(RASA_STAMP)
	$(RASA_VENV)/bin/rasa data validate --config nlu/config.yml --domain nlu/domain --data nlu/data --fail-on-warnings

# Tests reuse the embedding model that set-up built instead of rebuilding it.
test: setup lint nlu-validate
	HELPLINE_TEST_MODEL_DIR=$(CURDIR)/var/models/multilingual-e5-small $(VENV)/bin/python -m pytest

# On every core: each test has its own SQLite file or PostgreSQL schema.
test-fast: $(APP_STAMP)
	$(VENV)/bin/python -m pytest -m "not integration" -n auto

nlu-eval: train
	$(RASA_VENV)/bin/python nlu/evaluate.py

kb-eval: $(APP_STAMP) model
	$(VENV)/bin/python -m knowledge.evaluate

# Every blind round in tests/data/blind/ against a private copy of the assistant; ROUND=path for one.
eval: setup
	$(VENV)/bin/python -m bench.blind_eval $(ROUND)

# Each benchmark is a Python module that prints its own figures; add yours to the list.
BENCH_MODULES := knowledge.bench bench.handoff_latency bench.abuse bench.overhead
bench: $(APP_STAMP) $(RASA_STAMP) model
	@for module in $(BENCH_MODULES); do $(VENV)/bin/python -m $$module || exit 1; done

clean:
	rm -rf $(VENV) $(RASA_VENV) var nlu/models .rasa
