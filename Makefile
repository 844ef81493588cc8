# One task runner. `make demo` and `make test` do all set-up on a fresh machine.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ACCOUNTS ?= 10000
PORT ?= 8000
SIZE ?=
LINT_STAMP := scripts/cypher-lint/node_modules/.installed
comma := ,

.PHONY: demo demo-port test chromium java cypher-lint cypher-editor lint typecheck bench bench-ingest bench-analysis clean

$(PY):
	@PYTHON=$$(scripts/find-python.sh) || exit 1; \
	echo "creating $(VENV) with $$PYTHON"; \
	"$$PYTHON" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The embedded extra (falkordblite) is the demo's graph engine and the tests' store; its first
# install compiles for minutes, which pip-install.sh announces and shows.
$(STAMP): $(PY) pyproject.toml
	scripts/pip-install.sh $(PY) '.[embedded]'
	@touch $@

$(TEST_STAMP): $(STAMP)
	scripts/pip-install.sh $(PY) '.[embedded,test]'
	@touch $@

# demo-port comes first: a busy port stops the demo before minutes of install and analysis.
demo: demo-port $(STAMP)
	$(VENV)/bin/linkscope demo --accounts $(ACCOUNTS) --port $(PORT) --out-dir demo-data --store embedded:.linkscope/graph

demo-port:
	@PYTHON=$$(scripts/find-python.sh) || exit 1; "$$PYTHON" scripts/check-port.py $(PORT)

test: $(TEST_STAMP) chromium java cypher-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

# The UI tests drive Debian's Chromium (Playwright's own browser download is not reachable).
chromium:
	@command -v chromium >/dev/null 2>&1 || scripts/apt-install.sh "the UI tests" chromium

# The Spark engine's tests run Spark in local mode, which needs Java 17 (pyspark brings Spark's
# jars; Java comes from Debian like Chromium).
java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || scripts/apt-install.sh "the Spark engine's tests" openjdk-17-jre-headless

# Neo4j's Cypher front-end (npm, pinned in scripts/cypher-lint/package-lock.json) checks every
# statement we send (tests/test_cypher_lint.py); node and npm come from Debian like Chromium.
cypher-lint: $(LINT_STAMP)

$(LINT_STAMP): scripts/cypher-lint/package-lock.json
	@{ command -v node && command -v npm; } >/dev/null 2>&1 || scripts/apt-install.sh "the Cypher check" nodejs npm
	@echo "installing Neo4j's Cypher front-end for the tests (npm ci in scripts/cypher-lint)"
	npm ci --prefix scripts/cypher-lint --no-audit --no-fund --loglevel=error
	@touch $@

# The UI's Cypher editor (Neo4j's @neo4j-cypher/codemirror, pinned in
# scripts/cypher-editor/package-lock.json), bundled by esbuild into ui_static/vendor/. The bundle
# is committed: demo, tests and the package need no npm. Run after changing the pinned versions.
cypher-editor:
	@{ command -v node && command -v npm; } >/dev/null 2>&1 || scripts/apt-install.sh "the Cypher editor build" nodejs npm
	npm ci --prefix scripts/cypher-editor --no-audit --no-fund --loglevel=error
	node scripts/cypher-editor/build.mjs

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
	rm -rf $(VENV) .linkscope demo-data scripts/cypher-lint/node_modules
