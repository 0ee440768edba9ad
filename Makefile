# The two commands: `make dev` and `make test`. Each bootstraps uv, syncs the locked
# environment and goes. Nothing else needs installing by hand.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync

.PHONY: all bootstrap dev test test-fast lint format bench translations services

all: bootstrap

bootstrap:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@$(MAKE) --no-print-directory translations

translations:
	@$(RUN) python -m core.translations.compile

dev: bootstrap
	@$(RUN) pulse dev

services:
	@bash infra/dev/ensure-services.sh

lint: bootstrap
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .

test: bootstrap services lint
	$(RUN) pytest -q

test-fast: bootstrap
	$(RUN) pytest -q -m "not browser and not chaos and not slow"

format: bootstrap
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: bootstrap services
	$(RUN) python -m bench
