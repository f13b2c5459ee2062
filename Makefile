# TapStack: every entry point a developer, CI or an operator uses. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON_FOR_VENV ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed
TEMPLATE ?= output/TapStack.json

$(INSTALLED): requirements/dev.txt
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet --requirement requirements/dev.txt
	touch $@

$(CHECKOV_INSTALLED): requirements/checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON_FOR_VENV) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check --quiet --requirement requirements/checkov.txt
	touch $@

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: setup
setup: $(INSTALLED) ## Create .venv and install the pinned dependencies

.PHONY: template
template: $(INSTALLED) ## Generate output/TapStack.json (+ its report TapStack.md) and lint it with cfn-lint
	$(PY) generate.py
	$(VENV)/bin/cfn-lint --include-checks I -- output/TapStack.json
	@echo "output/TapStack.json and output/TapStack.md are generated; the JSON is lint-clean"

.PHONY: diagram
diagram: $(INSTALLED) ## Render output/TapStack.svg with Graphviz (needs `dot`: apt-get install graphviz)
	$(PY) -m tools.report --svg output/TapStack.svg

.PHONY: check
check: $(INSTALLED) ## Fail when the committed JSON differs from what the code generates
	$(PY) generate.py --check

.PHONY: test
test: $(INSTALLED) $(CHECKOV_INSTALLED) ## ruff, mypy, the committed-JSON check and the whole pytest suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m tools.code_guard
	$(PY) generate.py --check
	$(PY) -m pytest -n 2

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
	$(PY) -m tools.code_guard
	$(PY) tools/package.py

.PHONY: bench
bench: $(INSTALLED) ## Benchmarks: cold import vs bare boto3, per-event CPU, artifact size
	$(PY) tools/bench.py

.PHONY: lint
lint: $(INSTALLED) $(CHECKOV_INSTALLED) ## cfn-lint (with rules/) and checkov on TEMPLATE (default output/TapStack.json)
	$(PY) tools/lint.py $(TEMPLATE)
