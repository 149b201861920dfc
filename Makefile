# The two commands of the README: `make run` and `make test`. Each builds its own virtualenv and
# installs the OS packages it needs (CJK font for PDFs, poppler for PDF tests and previews, Chromium and its
# driver for the console's browser tests, redis-server and the PostgreSQL client tools for the
# several-instance and restore tests) when missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PORT

REDOC_VERSION := 2.5.4
REDOC_JS := .assets/redoc/redoc.standalone.js

.PHONY: run test bench os-packages venv assets clean

run: venv os-packages assets
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims init-db
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims seed --demo
	CLAIMS_ENV=$${CLAIMS_ENV:-development} $(BIN)/claims serve --port $(PORT)

test: venv os-packages assets
	CLAIMS_ENV=test $(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

bench: venv os-packages
	@command -v wrk >/dev/null || { echo "installing wrk (figure 1's load generator: C, so the client leaves the cores to the servers)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv module missing: installing python3-venv"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

# ReDoc's standalone bundle from its npm package (the registry's tarball, integrity-checked by npm), served by
# the app at /redoc with no CDN; .assets/ is not in git.
assets: $(REDOC_JS)

$(REDOC_JS):
	@command -v npm >/dev/null || { echo "installing npm (for the ReDoc package)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	mkdir -p .assets/redoc
	cd .assets && npm pack --silent redoc@$(REDOC_VERSION) >/dev/null
	tar -xzf .assets/redoc-$(REDOC_VERSION).tgz -C .assets/redoc --strip-components=2 \
	  package/bundles/redoc.standalone.js package/bundles/redoc.standalone.js.LICENSE.txt
	rm -f .assets/redoc-$(REDOC_VERSION).tgz

os-packages:
	@if [ ! -f "$(FONT)" ] && [ -z "$$CLAIMS_CJK_FONT" ] || ! command -v pdftotext >/dev/null \
	    || ! command -v certutil >/dev/null; then \
	  echo "installing fonts-wqy-zenhei, poppler-utils and libnss3-tools (CJK font for statements, PDF text and signature tools)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    fonts-wqy-zenhei poppler-utils libnss3-tools >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing chromium and chromium-driver (browser checks of /docs, /redoc and the console)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    chromium chromium-driver >/dev/null; \
	fi
	@if ! command -v redis-server >/dev/null || ! command -v pg_dump >/dev/null || ! command -v psql >/dev/null; then \
	  echo "installing redis-server and postgresql-client (shared counters; several-instance and restore tests)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    redis-server postgresql-client >/dev/null; \
	fi

clean:
	rm -rf $(VENV) var .assets .pytest_cache .hypothesis
