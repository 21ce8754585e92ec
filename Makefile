# The two commands a new user needs:
#   make demo   the whole product on this machine: robot simulator + camera service + live viewer
#   make test   provision what the tests need (apt packages, Docker engine, venv) and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check venv provision lint bench spx docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

provision:
	bash tools/provision.sh

demo: $(STAMP)
	$(BIN)/python -m devtools.demo

test: provision $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# The contributors' fast tier (under 3 minutes on 2 cores): style, types of the shipped
# package, the stage layers, dead code, and the unit tests of the product's stages.
FAST_TESTS := tests/service/core tests/service/capture tests/service/encoding \
	tests/service/serving tests/service/config tests/service/geometry tests/service/sources \
	tests/service/cli tests/service/schema tests/tools tests/docs
check: $(STAMP)
	$(BIN)/ruff check .
	MYPYPATH=service $(BIN)/mypy -p camera_service
	PYTHONPATH=service:. $(BIN)/lint-imports
	$(BIN)/vulture service/camera_service tools/vulture_allowlist.py --min-confidence 60
	$(BIN)/pytest -q -p no:cacheprovider $(FAST_TESTS) -m "not slow and not browser and not docker and not vm"

docs: $(STAMP)  # the documentation site into site/ (config reference generated from the schema)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m bench

spx: $(STAMP)  # SPX_ARGS=--local-base builds with no registry (debootstrap base)
	$(BIN)/python build_extension.py build $(SPX_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache site
