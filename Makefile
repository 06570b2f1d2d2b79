# The README's commands. `make run` launches the dashboard on the shipped default model;
# `make report` runs the main job end to end; `make test` runs the tests.
PYTHON ?= python3
export GENEPHENO_MIRROR ?= $(abspath ../shared/data)
PORT ?= 8501
# the dashboard listens on this machine only; `make run ADDRESS=0.0.0.0` exposes it (README)
ADDRESS ?= 127.0.0.1

.PHONY: install run report test test-fast benchmark default-model dashboard serve

install:
	bash scripts/install.sh

run: install dashboard

dashboard:
	$(PYTHON) -m streamlit run streamlit_app.py --server.address $(ADDRESS) --server.port $(PORT) --server.headless true

# the REST API on http://127.0.0.1:$(API_PORT) (docs at /docs); `make serve ENGINE=ray REPLICAS=2` runs it on Ray Serve
API_PORT ?= 8000
ENGINE ?= local
REPLICAS ?= 1
serve: install
	$(PYTHON) -m genepheno_core serve --host $(ADDRESS) --port $(API_PORT) --engine $(ENGINE) $(if $(filter ray,$(ENGINE)),--replicas $(REPLICAS))

report: install
	bash scripts/report.sh

test: install
	$(PYTHON) -m pytest -q -p no:cacheprovider --durations=25 tests

# the unit tests without the mirror builds, the browser and the tests marked slow (> ~2 s); under 3 minutes
test-fast:
	$(PYTHON) -m pytest -q -p no:cacheprovider -m "not integration and not e2e and not slow" tests

benchmark: install
	$(PYTHON) -m genepheno_core benchmark --out results
	# the leakage checks: mpo and hpo without IMP/IGI/HMP/HGI GO evidence, for the methods that read GO
	$(PYTHON) -m genepheno_core benchmark --out results --datasets mpo-no-imp-igi hpo-no-imp-igi --splits random --methods naive go-mlp go-orth-mlp genepheno
	# copy the headline tables into README.md
	$(PYTHON) scripts/update_readme_tables.py
	# protocol 1 (results/benchmark-v1.md) against the new tables: results/v1_vs_v2.md
	$(PYTHON) scripts/compare_protocols.py

default-model: install
	$(PYTHON) scripts/build_default_model.py --dataset hpo --dataset mpo
	$(PYTHON) scripts/build_default_model.py --dataset hpo --dataset mpo --go-transfer
