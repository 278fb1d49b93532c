# Transcript Foundry. `make demo` and `make test` are the two commands the README opens with.
SHELL := /bin/bash
export TRANSCRIPTS_HOME ?= $(CURDIR)/.transcripts
export DAGSTER_HOME ?= $(TRANSCRIPTS_HOME)/dagster_home
DEMO_REQUEST ?= Generate 20 healthcare transcripts with frustrated callers

.PHONY: venv demo test test-fast lint format dev bench clean dagster-postgres

venv:
	@bash tools/ensure-venv.sh

demo: venv
	.venv/bin/transcripts generate "$(DEMO_REQUEST)" --out out/demo

test: venv
	bash tools/ensure-browser.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest

test-fast: venv
	bash tools/ensure-browser.sh
	.venv/bin/python -m pytest -m "not slow"

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

dev: venv
	@mkdir -p "$(DAGSTER_HOME)"
	.venv/bin/dagster dev -w workspace.yaml

# Dagster's instance on Postgres (run, event-log and schedule storage; credentials from DAGSTER_PG_*):
# writes $(DAGSTER_HOME)/dagster.yaml from deploy/dagster.yaml.template (docs/deploy.md).
dagster-postgres:
	@mkdir -p "$(DAGSTER_HOME)"
	bash tools/write-dagster-yaml.sh

bench: venv
	.venv/bin/python bench/embedded_throughput.py

clean:
	rm -rf .transcripts out .pytest_cache .ruff_cache
