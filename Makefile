# Two entry points a new user needs: `make demo` and `make test`. Each installs what it needs first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

CONTRIB := $(wildcard contrib/halosync-example-plugin/pyproject.toml)

$(STAMP): pyproject.toml $(CONTRIB)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,postgresql]' $(if $(CONTRIB),-e contrib/halosync-example-plugin)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/halosync demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV)
