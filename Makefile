# Two entry points a new user needs: `make demo` and `make test`. Each installs what it needs first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

# The example plugins (an alerter, a source, a sink), installed so the tests can load them through entry points.
CONTRIB := $(wildcard contrib/halosync-example-plugin/pyproject.toml contrib/halosync-example-source/pyproject.toml \
	contrib/halosync-example-sink/pyproject.toml)

$(STAMP): pyproject.toml $(CONTRIB)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lint,postgresql]' $(foreach p,$(CONTRIB),-e $(dir $(p)))
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/halosync demo

# ruff, mypy (strict) and the import contracts in pyproject.toml (who may import whom). `ruff format --check` is
# not among them: the tree has never been formatted by ruff, and reformatting it is a change of its own.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV)
