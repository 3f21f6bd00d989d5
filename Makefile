# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= 500
CERTIFICATES ?= 20
HOST ?= 127.0.0.1
PORT ?= 5000
# What certificates and QR codes point at: this server unless ACCREDIT_PUBLIC_URL says otherwise.
PUBLIC_URL ?= $(or $(ACCREDIT_PUBLIC_URL),http://$(HOST):$(PORT))

# Debian packages the tests drive for real: pdfsig/pdftoppm, qpdf, SoftHSM2,
# certutil (NSS) and the browser. Kept in this one list.
SYSTEM_DEPS := poppler-utils qpdf softhsm2 libnss3-tools chromium wrk

.PHONY: setup run test bench soak fuzz speedups-proof verifier-coverage fuzz-atheris lint format system-deps screenshots translations clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compiled message catalogues are built, not committed.
MO := registry/translations/th/LC_MESSAGES/messages.mo
$(MO): registry/translations/th/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d registry/translations 2>/dev/null

# axe-core for the browser tests' accessibility checks, from the npm registry, as
# package-lock.json pins it (node_modules/ is not committed). Node comes with npm.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm; }
	npm ci --silent --no-audit --no-fund
	touch $(AXE)

setup: $(STAMP) $(MO) $(AXE)

# Re-extract strings into the template and merge them into the Thai catalogue.
translations: setup
	$(BIN)/pybabel extract -F registry/babel.cfg -k lazy_gettext -k _l -k N_ -o registry/translations/messages.pot registry templates
	$(BIN)/pybabel update -i registry/translations/messages.pot -d registry/translations -l th

system-deps:
	@missing=""; for p in $(SYSTEM_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: setup
	ACCREDIT_PUBLIC_URL=$(PUBLIC_URL) $(BIN)/accredit init --demo $(DEMO) --issue $(CERTIFICATES)
	ACCREDIT_PUBLIC_URL=$(PUBLIC_URL) $(BIN)/accredit run --host $(HOST) --port $(PORT)

test: setup system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: setup system-deps
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-20000} $(BIN)/pytest tests/verifier/test_fuzz.py -q

# Every document the verifier's tests verify (attack suite, reason codes, fuzz corpus),
# verified again with the speed-ups off and on: the reports must be identical.
speedups-proof: setup system-deps
	COLD_WARM=all $(BIN)/pytest tests/verifier -q -s

# Branch coverage of the modification rules by the verifier's own tests (target >= 95 %).
verifier-coverage: setup system-deps
	$(BIN)/coverage run --branch --source=verifier -m pytest tests/verifier -q -p no:cacheprovider
	$(BIN)/coverage report -m --include='verifier/*.py' --fail-under=80
	$(BIN)/coverage report -m --include=verifier/revisions.py --fail-under=95

fuzz-atheris: setup system-deps
	$(BIN)/pip install --quiet -e '.[test,fuzz]'
	$(BIN)/python -m tests.verifier.fuzz_atheris -runs=$${FUZZ_EXAMPLES:-20000}

bench: setup system-deps
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

# Not part of `make test`: SOAK_SECONDS (default 600) under 64 connections (tests/soak).
soak: setup system-deps
	SOAK_SECONDS=$${SOAK_SECONDS:-600} $(BIN)/python -m tests.soak

screenshots: setup
	$(BIN)/python -m tests.screenshots screenshots

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info node_modules
