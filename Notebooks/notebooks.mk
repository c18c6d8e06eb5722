# Notebooks (issue 7), included by the main Makefile. Uses its `build` target, $(RELEASE) and $(BIN).
#
#   make notebooks         release build (tastegraph, and tastegraph-server beside it for `replay`), the
#                          notebooks' virtual environment, the strip check, then every
#                          notebook executed headless on the GraphData sample (and on lastfm-2k when
#                          ../shared/datasets/lastfm-2k exists); fails on any cell error
#   make notebooks-check   only the strip check: committed notebooks must carry no outputs
#   make notebooks-strip   strip outputs from Notebooks/*.ipynb in place
#
# NOTEBOOKS_FLAGS passes flags to Notebooks/run_notebooks.py, e.g. NOTEBOOKS_FLAGS="--datasets graphdata".

NB_PYTHON_SYSTEM ?= python3
NB_VENV          := .venv-notebooks
NB_PYTHON        := $(NB_VENV)/bin/python
NB_REQUIREMENTS  := Notebooks/requirements.txt
NB_STAMP         := $(NB_VENV)/.requirements-installed
NOTEBOOKS_FLAGS  ?=

.PHONY: notebooks notebooks-check notebooks-strip notebooks-venv notebooks-server

## notebooks: run every notebook headless on the sample (and lastfm-2k when present); executed copies in out/notebooks/
notebooks: build notebooks-server $(NB_STAMP) notebooks-check
	$(NB_PYTHON) Notebooks/run_notebooks.py --binary $(BIN) $(NOTEBOOKS_FLAGS)

# `tastegraph replay` starts the tastegraph-server beside $(BIN). After `build`, so that two SwiftPM builds
# never run at once under make -j.
notebooks-server: build
	$(RELEASE) --product tastegraph-server

## notebooks-check: fail when a notebook in Notebooks/ carries outputs or execution counts
notebooks-check:
	@$(NB_PYTHON_SYSTEM) Notebooks/check_stripped.py

## notebooks-strip: strip outputs and execution counts from Notebooks/*.ipynb
notebooks-strip:
	@$(NB_PYTHON_SYSTEM) Notebooks/check_stripped.py --fix

notebooks-venv: $(NB_STAMP)

# The virtual environment is made anew whenever the pinned requirements change, so it always holds exactly
# what requirements.txt lists. Debian's system Python needs python3-venv for `-m venv`: install it if missing.
$(NB_STAMP): $(NB_REQUIREMENTS)
	@$(NB_PYTHON_SYSTEM) -c "import ensurepip" 2>/dev/null || { \
		echo "installing: python3-venv"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv; }
	rm -rf $(NB_VENV)
	$(NB_PYTHON_SYSTEM) -m venv $(NB_VENV)
	$(NB_PYTHON) -m pip install --quiet --disable-pip-version-check -r $(NB_REQUIREMENTS)
	@touch $@
