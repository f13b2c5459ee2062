# TapStack: every entry point a developer, CI or an operator uses. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# uv installs without compiling bytecode (pip compiles at install): let Python cache it on first import
# here, even where the environment says not to, or every command and test recompiles its imports.
unexport PYTHONDONTWRITEBYTECODE

PYTHON_FOR_VENV ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TAPSTACK := $(VENV)/bin/tapstack
INSTALLED := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed
AWSCLI_VENV := .venv-awscli
AWSCLI_INSTALLED := $(AWSCLI_VENV)/.installed
# The policy tools (Control Tower's proactive controls, cdk-nag) are Node packages pinned by
# policy/package-lock.json; `npm ci` installs exactly those.
POLICY := policy
POLICY_INSTALLED := $(POLICY)/node_modules/.installed
# The template lint and every stack target read: TEMPLATE=<file> names another generated one (its own prefix).
TEMPLATE ?= output/TapStack.json
# The generation settings: tapstack.toml unless CONFIG=<file> names another.
CONFIG ?=
CONFIG_FLAG = $(if $(CONFIG),--config $(CONFIG))

# The pinned locks (requirements/*.txt) are the one source of versions. uv installs them in seconds;
# INSTALLER=pip installs the same locks with plain pip (slower, nothing else needed).
INSTALLER ?= uv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
PIP_INSTALL = $(if $(filter uv,$(INSTALLER)),$(UV) pip install --python $(1) --quiet,$(1) -m pip install --disable-pip-version-check --quiet)
STEP = @printf 'setup: %s\n'

$(INSTALLED): requirements/dev.txt pyproject.toml
	$(STEP) "$(VENV): a virtual environment for $$($(PYTHON_FOR_VENV) --version)"
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(if $(filter uv,$(INSTALLER)),$(STEP) "$(VENV): the installer uv $(UV_VERSION)")
	$(if $(filter uv,$(INSTALLER)),$(PY) -m pip install --disable-pip-version-check --quiet uv==$(UV_VERSION))
	$(STEP) "$(VENV): $$(grep -c '==' requirements/dev.txt) pinned packages from requirements/dev.txt ($(INSTALLER))"
	$(call PIP_INSTALL,$(PY)) --requirement requirements/dev.txt
	$(STEP) "$(VENV): TapStack itself (editable) and its tapstack command"
	$(call PIP_INSTALL,$(PY)) --no-deps --editable .
	touch $@
	$(STEP) "$(VENV) is ready"

$(CHECKOV_INSTALLED): requirements/checkov.txt $(INSTALLED)
	$(STEP) "$(CHECKOV_VENV): checkov's own environment (it pins an older boto3)"
	# uv makes the environment in a fraction of a second; plain venv also installs pip, which uv does not need.
	test -x $(CHECKOV_VENV)/bin/python || $(if $(filter uv,$(INSTALLER)),$(UV) venv --quiet --python $(PYTHON_FOR_VENV) $(CHECKOV_VENV),$(PYTHON_FOR_VENV) -m venv $(CHECKOV_VENV))
	$(STEP) "$(CHECKOV_VENV): $$(grep -c '==' requirements/checkov.txt) pinned packages from requirements/checkov.txt ($(INSTALLER))"
	$(call PIP_INSTALL,$(CHECKOV_VENV)/bin/python) --requirement requirements/checkov.txt
	$(STEP) "$(CHECKOV_VENV): a first run of checkov (Python caches its bytecode here, not in the first lint)"
	$(CHECKOV_VENV)/bin/checkov --version
	touch $@
	$(STEP) "$(CHECKOV_VENV) is ready"

$(AWSCLI_INSTALLED): requirements/awscli.txt $(INSTALLED)
	$(STEP) "$(AWSCLI_VENV): the AWS CLI's own environment (its pins differ from .venv's), for the CLI-only deploy test"
	test -x $(AWSCLI_VENV)/bin/python || $(if $(filter uv,$(INSTALLER)),$(UV) venv --quiet --python $(PYTHON_FOR_VENV) $(AWSCLI_VENV),$(PYTHON_FOR_VENV) -m venv $(AWSCLI_VENV))
	$(call PIP_INSTALL,$(AWSCLI_VENV)/bin/python) --requirement requirements/awscli.txt
	touch $@
	$(STEP) "$(AWSCLI_VENV) is ready"

.PHONY: awscli-environment
awscli-environment: $(AWSCLI_INSTALLED)
	@:

$(POLICY_INSTALLED): $(POLICY)/package.json $(POLICY)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "setup: the policy tools need Node.js 20 or later and npm, which this machine lacks: install them (Debian/Ubuntu: apt-get install nodejs npm; elsewhere the Node.js 20 installer for the platform), then run make again" >&2; exit 2; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "setup: the policy tools need Node.js 20 or later; this machine has $$(node --version)" >&2; exit 2; }
	$(STEP) "$(POLICY)/node_modules: the policy tools, for node $$(node --version) and npm $$(npm --version)"
	$(STEP) "$(POLICY)/node_modules: $$(node -p "Object.entries(require('./$(POLICY)/package.json').dependencies).map(([name, version]) => name + ' ' + version).join(', ')") and what they need, pinned by $(POLICY)/package-lock.json (npm ci)"
	cd $(POLICY) && npm ci --no-audit --no-fund --loglevel=error
	touch $@
	$(STEP) "$(POLICY)/node_modules is ready"

# The recipes that need all three environments install them with PARALLEL: npm ci beside .venv, then
# .venv-checkov (it takes uv from .venv) beside whatever else waits for .venv. Each command's output
# prints whole, when it ends (make 4.0 or later).
PARALLEL = $(MAKE) --no-print-directory --jobs=3 $(if $(filter output-sync,$(.FEATURES)),--output-sync=line)

.PHONY: environments
environments: $(INSTALLED) $(CHECKOV_INSTALLED) $(POLICY_INSTALLED)
	@:

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: setup
setup: $(INSTALLED) ## Create .venv and install the pinned dependencies

.PHONY: template
template: $(INSTALLED) ## Generate output/TapStack.json (+ its report TapStack.md) and lint it with cfn-lint and tapstack/lint/rules/
	$(TAPSTACK) generate $(CONFIG_FLAG)
	$(TAPSTACK) lint --only cfn-lint output/TapStack.json
	@echo "output/TapStack.json and output/TapStack.md are generated; the JSON is lint-clean"

.PHONY: diagram
diagram: $(INSTALLED) ## Render output/TapStack.svg with Graphviz (needs `dot`: apt-get install graphviz)
	$(TAPSTACK) diagram --output output/TapStack.svg

.PHONY: check
check: $(INSTALLED) ## Fail when the committed JSON differs from what the code generates
	$(TAPSTACK) check $(CONFIG_FLAG)

.PHONY: test
test: ## ruff, mypy, the committed-JSON check and the whole pytest suite
	$(PARALLEL) environments awscli-environment typecheck static-checks
	$(PY) -m pytest -n 2

.PHONY: test-fast
test-fast: $(INSTALLED) ## The unit tier alone (tests/unit/: no emulator, subprocess or socket): the inner loop
	$(PY) -m pytest tests/unit -q -n 2

.PHONY: test-settings
test-settings: $(INSTALLED) ## The tests that read tapstack.toml, again with customised settings in a copy of the checkout
	$(PY) -m pytest -q -p no:xdist tests/functional/generate/test_customised_settings.py

# The checks before the tests need only .venv: they run while the other environments install, and
# mypy (the longest, cold on a fresh clone) beside the others, on two workers of its own.
.PHONY: typecheck static-checks
typecheck: $(INSTALLED)
	$(VENV)/bin/mypy --num-workers 2

static-checks: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TAPSTACK) guard
	$(TAPSTACK) check $(CONFIG_FLAG)

.PHONY: fmt
fmt: $(INSTALLED) ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: lock
lock: ## Re-resolve requirements/dev.in into the pinned requirements/dev.txt
	rm -rf build/lock-venv
	$(PYTHON_FOR_VENV) -m venv build/lock-venv
	build/lock-venv/bin/pip install --disable-pip-version-check --quiet --requirement requirements/dev.in
	{ echo "# Full pinned resolution of requirements/dev.in (regenerate with: make lock)."; \
	  build/lock-venv/bin/pip freeze --exclude-editable | sort -f; } > requirements/dev.txt

.PHONY: clean
clean: ## Remove build products (keeps the virtual environments)
	rm -rf build dist .mypy_cache .ruff_cache .hypothesis

.PHONY: package
package: $(INSTALLED) ## Build the deterministic Lambda artifact (build/lambda-<hash>.zip)
	$(TAPSTACK) guard
	$(TAPSTACK) package

.PHONY: bench
bench: ## Benchmarks: cold import vs bare boto3, per-event CPU, lint time, artifact size, load on the emulator
	$(PARALLEL) environments
	$(MAKE) --no-print-directory load
	$(TAPSTACK) bench $(ON_EMULATOR)

.PHONY: measure
measure: local-up ## What one delivery does on a throwaway emulator stack (durations, log bytes, requests) -> tapstack/cost/measurements.json, read by `tapstack cost`
	$(TAPSTACK) bench --deliveries-only $(ON_EMULATOR)

.PHONY: lint
lint: ## [TEMPLATE=path] [RAW_ONLY=1 | LANDING_ZONE=1]: cfn-lint (tapstack/lint/rules/), checkov, Control Tower controls, cdk-nag; as written and with params/{dev,prod,landing-zone}.json
	$(PARALLEL) environments
	$(TAPSTACK) lint $(TEMPLATE) $(if $(RAW_ONLY),--raw-only) $(if $(LANDING_ZONE),--params params/landing-zone.json --control-tower-enforced)

# ---- Stack operations: `tapstack local …` on the emulator, `tapstack …` on AWS with ENV=<suffix> ----
# The ports: LOCAL_PORT=<port> once (`make local-up LOCAL_PORT=5001`) and the local commands after it use
# that port (.local/ports.json) until `make local-down`; the defaults are 5000 and 8787.
LOCAL_PORT ?=
LOCAL_HTTP_PORT ?=
LOCAL_ENV ?= local
ON_EMULATOR = $(if $(LOCAL_PORT),--port $(LOCAL_PORT))
ON_AWS = $(if $(AWS_REGION),--region $(AWS_REGION))
PARAMS ?= params/$(ENV).json
REPUBLISH_OPTIONS = --since '$(SINCE)' $(if $(UNTIL),--until '$(UNTIL)') $(if $(KIND),--kind $(KIND)) $(if $(TO),--to $(TO)) $(if $(APPLY),--apply)
NEED_ENV = @test -n "$(ENV)" || { echo "set ENV=<suffix>: the stack is tapstack-<ENV>, e.g. make $@ ENV=dev" >&2; exit 2; }

.PHONY: local-up local-down deploy-local send serve-local replay-local republish-local reconcile-local destroy-local load
local-up: $(INSTALLED) ## [LOCAL_PORT=5000]: start the moto emulator on 127.0.0.1 (the port is kept for the later local targets); pid and log in .local/
	$(TAPSTACK) local up $(ON_EMULATOR)

local-down: $(INSTALLED) ## Stop the emulator local-up started (the pid file's process, checked first)
	$(TAPSTACK) local down $(ON_EMULATOR)

deploy-local: template local-up ## Package and deploy tapstack-local to the emulator; writes cfn-outputs/flat-outputs.json
	$(TAPSTACK) local deploy --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) --params params/local.json

send: $(INSTALLED) ## EVENT=events/<provider>/<file>.json [PROVIDER=] [FAULT=processor|notifier|table|bucket|topic|unreachable]: deliver it signed to the local stack, print JSON
	@test -n "$(EVENT)" || { echo "usage: make send EVENT=events/stripe/refund.created.json [PROVIDER=stripe] [FAULT=table]" >&2; exit 2; }
	@$(TAPSTACK) local send --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) $(EVENT) $(if $(PROVIDER),--provider $(PROVIDER)) $(if $(FAULT),--fault $(FAULT))

serve-local: $(INSTALLED) ## [LOCAL_HTTP_PORT=8787]: the local stack's API on http://127.0.0.1:LOCAL_HTTP_PORT/<stage>, for curl and provider CLIs
	$(TAPSTACK) local serve --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) $(if $(LOCAL_HTTP_PORT),--http-port $(LOCAL_HTTP_PORT))

replay-local: $(INSTALLED) ## [FUNCTION=processor|notifier] [APPLY=1] [VERBOSE=1]: re-drive the local stack's dead letters (handler logs: .local/replay.log)
	$(TAPSTACK) local replay --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) $(if $(FUNCTION),--function $(FUNCTION)) $(if $(APPLY),--apply) $(if $(VERBOSE),--verbose)

republish-local: $(INSTALLED) ## SINCE=<time> [UNTIL=] [KIND=] [TO=<queue ARN>] [APPLY=1]: re-publish the local stack's events of a window
	@test -n "$(SINCE)" || { echo "usage: make republish-local SINCE=1h [UNTIL=] [KIND=refund] [TO=arn:aws:sqs:…] [APPLY=1]" >&2; exit 2; }
	$(TAPSTACK) local republish --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) $(REPUBLISH_OPTIONS)

reconcile-local: $(INSTALLED) ## [PROVIDER=stripe|paypal] [APPLY=1]: list what the local providers' logs hold that the table lacks (FAULT=unreachable sends); APPLY=1 hands it to the processor
	@$(TAPSTACK) local reconcile --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) $(if $(PROVIDER),--provider $(PROVIDER)) $(if $(APPLY),--apply)

destroy-local: $(INSTALLED) ## Empty the local buckets, delete every local stack (an earlier prefix's too) and the artifact bucket, report leftovers
	$(TAPSTACK) local destroy --template $(TEMPLATE) $(ON_EMULATOR) --env $(LOCAL_ENV) --with-bootstrap

load: local-up ## Bounded load on a throwaway emulator stack (2,000 deliveries, 20% repeats, 8 senders) -> build/load.json
	@echo "load run: deploy, 2,000 deliveries, destroy (progress and handler logs: .local/load.log)"
	@$(TAPSTACK) local load --template $(TEMPLATE) $(ON_EMULATOR) --params params/local.json --deliveries 2000 --duplicates 0.2 --senders 8 \
		2> .local/load.log || { tail -n 20 .local/load.log >&2; exit 1; }

.PHONY: bootstrap preflight deploy diff destroy replay republish reconcile
bootstrap: $(INSTALLED) ## Create the artifact-bucket stack <prefix>-bootstrap, once per account/region [AWS_REGION=]
	$(TAPSTACK) bootstrap --template $(TEMPLATE) $(ON_AWS)

preflight: $(INSTALLED) ## ENV=<suffix> [AWS_REGION=] [PARAMS=]: check the account can take the stack, change nothing
	$(NEED_ENV)
	$(TAPSTACK) preflight --template $(TEMPLATE) $(ON_AWS) --env $(ENV) --params $(PARAMS)

deploy: $(INSTALLED) ## ENV=<suffix> [AWS_REGION=] [PARAMS=params/<ENV>.json]: template, preflight, upload, change-set deploy
	$(NEED_ENV)
	$(MAKE) --no-print-directory template
	$(TAPSTACK) deploy --template $(TEMPLATE) $(ON_AWS) --env $(ENV) --params $(PARAMS)

diff: $(INSTALLED) ## ENV=<suffix> [PARAMS=]: print what a deploy would change (change set, then deleted)
	$(NEED_ENV)
	$(TAPSTACK) diff --template $(TEMPLATE) $(ON_AWS) --env $(ENV) --params $(PARAMS)

destroy: $(INSTALLED) ## ENV=<suffix>: empty the versioned buckets, delete tapstack-<ENV>, report leftovers
	$(NEED_ENV)
	$(TAPSTACK) destroy --template $(TEMPLATE) $(ON_AWS) --env $(ENV)

replay: $(INSTALLED) ## ENV=<suffix> [FUNCTION=processor|notifier] [APPLY=1]: re-drive dead letters (dry run by default)
	$(NEED_ENV)
	$(TAPSTACK) replay --template $(TEMPLATE) $(ON_AWS) --env $(ENV) $(if $(FUNCTION),--function $(FUNCTION)) $(if $(APPLY),--apply) $(if $(VERBOSE),--verbose)

republish: $(INSTALLED) ## ENV=<suffix> SINCE=<time> [UNTIL=] [KIND=] [TO=<queue ARN>] [APPLY=1]: re-publish a window's events (dry run by default)
	$(NEED_ENV)
	@test -n "$(SINCE)" || { echo "usage: make republish ENV=dev SINCE=7d [UNTIL=] [KIND=refund] [TO=arn:aws:sqs:…] [APPLY=1]" >&2; exit 2; }
	$(TAPSTACK) republish --template $(TEMPLATE) $(ON_AWS) --env $(ENV) $(REPUBLISH_OPTIONS)

reconcile: $(INSTALLED) ## ENV=<suffix> PROVIDER=stripe|paypal SINCE=<time> [UNTIL=] [APPLY=1]: events the provider created that the table lacks (dry run by default)
	$(NEED_ENV)
	@test -n "$(PROVIDER)" -a -n "$(SINCE)" || { echo "usage: make reconcile ENV=dev PROVIDER=stripe SINCE=3d [UNTIL=1d] [APPLY=1]" >&2; exit 2; }
	@$(TAPSTACK) reconcile --template $(TEMPLATE) $(ON_AWS) --env $(ENV) --provider $(PROVIDER) --since $(SINCE) $(if $(UNTIL),--until $(UNTIL)) $(if $(APPLY),--apply)
