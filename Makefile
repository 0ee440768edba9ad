# The two commands: `make dev` and `make test`. Each bootstraps uv, syncs the locked
# environment and goes. Nothing else needs installing by hand.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync

# This machine's environment sets PYTHONDONTWRITEBYTECODE=1: every Python process (each test's
# `pulse api`/`pulse worker`, each pytest worker) would compile the whole stack again, ~7 s of CPU
# each. Unset, the first import writes __pycache__ and later processes reuse it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: all bootstrap dev test test-fast lint format bench translations services
.PHONY: lint-infra lint-checkov lint-dockerfile lint-workflows lint-compose lint-shell verify-aws

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

# Two test processes for most of the suite (it waits on timers and processes more than it
# computes), then the timing-sensitive tests alone (marker ``serial``).
test: bootstrap services lint lint-infra
	$(RUN) pytest -q -n 2 -m "not serial"
	$(RUN) pytest -q -m serial

test-fast: bootstrap
	$(RUN) pytest -q -m "not browser and not chaos and not slow"

format: bootstrap
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# The `bench` extra (LiteLLM's proxy, the durable peer, py-spy) only here: `make test` syncs it away.
bench: bootstrap services
	@$(UV) sync --frozen --quiet --extra bench
	$(RUN) python -m bench

# Static checks of infra/ and .github/ (docs/deploy.md); the tools come from the uv group "infra".
lint-infra: bootstrap
	@$(MAKE) --no-print-directory -j5 lint-checkov lint-dockerfile lint-workflows lint-compose lint-shell

lint-checkov:
	@$(RUN) checkov --quiet --compact --skip-download --framework terraform dockerfile -d infra

lint-dockerfile:
	@$(RUN) hadolint infra/docker/Dockerfile

# actionlint skips shellcheck silently when it is missing: insist on it.
lint-workflows:
	@$(RUN) sh -c 'sc="$$(command -v shellcheck)" || { echo "shellcheck not installed" >&2; exit 1; }; actionlint -shellcheck "$$sc"'

lint-compose:
	@$(RUN) check-jsonschema --builtin-schema vendor.compose-spec infra/docker/compose.yaml
	@$(RUN) python infra/terraform/tfdocs.py --check

lint-shell:
	@$(RUN) shellcheck infra/deploy/*.sh
	@$(RUN) shellcheck --severity=warning infra/dev/ensure-services.sh

# With AWS credentials, Docker and Terraform >= 1.11: the checks this machine cannot run.
ENV ?= staging
verify-aws:
	docker build -f infra/docker/Dockerfile -t pulse:verify .
	docker run --rm pulse:verify --help >/dev/null
	terraform fmt -check -recursive infra/terraform
	terraform -chdir=infra/terraform/envs/$(ENV) init -input=false -backend-config=backend.hcl
	terraform -chdir=infra/terraform/envs/$(ENV) validate
	terraform -chdir=infra/terraform/envs/$(ENV) plan -input=false -lock=false
