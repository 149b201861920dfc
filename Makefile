# The two commands of the README: `make run` and `make test`. Each builds its own virtualenv and
# installs the OS packages it needs (CJK font for PDFs, poppler for PDF tests) when missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PORT

.PHONY: run test bench os-packages venv clean

run: venv os-packages
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims init-db
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims seed --demo
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims serve --port $(PORT)

test: venv os-packages
	CLAIMS_ENV=test $(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

bench: venv os-packages
	$(BIN)/python -m bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv module missing: installing python3-venv"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

os-packages:
	@if [ ! -f "$(FONT)" ] && [ -z "$$CLAIMS_CJK_FONT" ] || ! command -v pdftotext >/dev/null \
	    || ! command -v certutil >/dev/null; then \
	  echo "installing fonts-wqy-zenhei, poppler-utils and libnss3-tools (CJK font for statements, PDF text and signature tools)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    fonts-wqy-zenhei poppler-utils libnss3-tools >/dev/null; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
