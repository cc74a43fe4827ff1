# Roundtable: `make demo` runs the product with demo data, `make test` runs every test,
# `make bench` measures it (see the README's Benchmarks; not part of `make test`).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
DEMO_ENV := ROUNDTABLE_DEMO=1

.PHONY: install demo test bench clean oidc-provider

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) seed-demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The JavaScript Socket.IO client and the OpenID provider the tests run, when Node is installed (else those tests skip).
tests/js/node_modules: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/js --no-audit --no-fund --silent; \
	else echo "npm not found: the JavaScript client test will be skipped"; fi

# A test identity provider for trying single sign-on with `make demo` (see the README).
oidc-provider: tests/js/node_modules
	OIDC_PROVIDER_PORT=9000 \
	OIDC_PROVIDER_REDIRECT_URIS=http://127.0.0.1:$(PORT)/auth/oidc/callback,http://localhost:$(PORT)/auth/oidc/callback \
	node tests/js/oidc_provider.mjs

# One worker per core; a module's tests stay together (they share a live server).
test: install tests/js/node_modules
	$(BIN)/pytest -n auto --dist loadfile

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	@command -v redis-server >/dev/null || { echo "make bench needs redis-server: apt-get install redis-server"; exit 1; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache
