# The two commands a new user needs:
#   make demo   the whole product on this machine: robot simulator + camera service + live viewer
#   make test   provision what the tests need (apt packages, Docker engine, venv) and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv provision lint bench spx clean

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

bench: $(STAMP)
	$(BIN)/python -m bench

spx: $(STAMP)  # SPX_ARGS=--local-base builds with no registry (debootstrap base)
	$(BIN)/python build_extension.py build $(SPX_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache
