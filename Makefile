# The course's commands. Every target installs what it needs first and is safe to repeat.
#   make lab    set up, then open JupyterLab on the notebooks   (LAB_ARGS="--no-browser --port 8899")
#   make test   set up, then lint (ruff) and run unit, property, doctest and notebook (nbval) tests
#   make student  write the student edition (solutions stubbed) to build/student/
#   make html   build the course site (Sphinx) into build/html/
#   make mutate mutation testing of the decision code (for releases; about half an hour)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb)) $(sort $(wildcard tests/notebooks/*.ipynb))
NBVAL_ARGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# A quiet, single-threaded numeric environment keeps runs reproducible and the 2-core machine responsive.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install lab lint test execute html bench mutate student clean check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "error: this course needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "       Install a newer Python, or run: make <target> PYTHON=/path/to/python3.11"; \
	  exit 1; }

$(STAMP): pyproject.toml constraints.txt | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (rl-best-practices)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab notebooks/ $(LAB_ROOT) $(LAB_ARGS)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest tests rl_best_practices notebooks $(NBVAL_ARGS)

execute: install
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

# The site: Sphinx renders the executed notebooks as stored (nothing re-runs), the README as the
# index and the API reference from the docstrings; a warning stops the build.
html: install
	$(BIN)/sphinx-build -W --keep-going -q -b html -d build/doctrees docs build/html

student: install
	$(BIN)/python tools/student_edition.py notebooks build/student

bench: install
	$(BIN)/python benchmarks/run_all.py

# mutmut changes the decision code one small thing at a time and runs the tests that reach it;
# the score per module goes to benchmarks/MUTATION.md and the README.
mutate: install
	rm -rf mutants
	$(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) build docs/reference mutants .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
