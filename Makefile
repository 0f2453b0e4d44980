# catpose: one-command setup, tests, demo and JupyterLab.
PY := .venv/bin/python

.PHONY: setup test lab clean-venv

setup:            ## create .venv with the pinned MMPose stack (mmcv built once, cached in ~/.cache/catpose)
	bash scripts/setup_env.sh

test: setup       ## the test suite (exactly what CI runs)
	$(PY) -m pytest -q

lab: setup        ## JupyterLab on the project
	$(PY) -m jupyter lab --notebook-dir=.

clean-venv:
	rm -rf .venv
