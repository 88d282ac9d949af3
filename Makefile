# The two commands a newcomer runs: `make demo` and `make test`. Each creates .venv and
# installs what it needs; nothing else has to be set up by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test bench bench-peers lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[demo]"
	touch $@

# torch first, pinned: 2.13.0 is the CPU build these machines hold; an unpinned torch, pulled in
# by sentence-transformers, would be a CUDA build of several GB.
TORCH_PIN := torch==2.13.0

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/assay demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# The drift benchmark's peers pin an old plotly: each gets a virtualenv of its own.
# NannyML 0.13.1 imports statsmodels without declaring it.
PEER_PINS_evidently := evidently==0.7.23 "pandas<3" pyarrow
PEER_PINS_nannyml := nannyml==0.13.1 statsmodels "pandas<3" pyarrow
# whylogs 1.6 uses names that numpy 2 removed; pyarrow 22 and later need numpy 2.
PEER_PINS_whylogs := whylogs==1.6.4 "numpy<2" "pandas<3" "pyarrow<22"

bench/.venv-%/.installed: Makefile
	$(PYTHON) -m venv bench/.venv-$*
	bench/.venv-$*/bin/python -m pip install --quiet --upgrade pip
	bench/.venv-$*/bin/python -m pip install --quiet $(PEER_PINS_$*)
	touch $@

bench-peers: bench/.venv-evidently/.installed bench/.venv-nannyml/.installed \
	bench/.venv-whylogs/.installed

bench: $(VENV)/.installed-test bench-peers
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) assay-demo .pytest_cache .mypy_cache .ruff_cache
