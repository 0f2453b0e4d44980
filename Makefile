# catpose: one-command setup, tests, demo and JupyterLab.
PY := .venv/bin/python

.PHONY: setup test lab clean-venv

setup: .venv/.setup-done   ## create .venv with the pinned MMPose stack (mmcv built once, cached in ~/.cache/catpose)

# re-run the install only when its inputs change ("setup if needed")
.venv/.setup-done: scripts/setup_env.sh requirements/torch.txt requirements/base.txt pyproject.toml
	bash scripts/setup_env.sh
	touch $@

test: setup       ## the test suite (README's test command, as CI runs it)
	$(PY) -m pytest -q

lab: setup        ## JupyterLab on the project
	$(PY) -m jupyter lab --notebook-dir=.

clean-venv:
	rm -rf .venv

# The demo: block 03 (12 runs + the baseline) on synthetic cats in under 15 minutes on 2 CPU
# cores, with a quick model (ResNet-18 at 64x64 px, bf16 where supported) and 8% of the
# reference study's epochs (12 of 150): small enough to finish, long enough to learn.
DEMO_DATA := {"n_train": 200, "n_val": 48, "n_test": 48, "size": 160}
DEMO_MODEL := {"resnet_depth": 18, "input_size": 64, "heatmap_size": 16}

.PHONY: demo
demo: setup       ## the main job: block 03 on synthetic cats, demo budget (< 15 min on 2 CPU cores)
	mkdir -p results/notebooks
	$(PY) -m papermill --log-output notebooks/03_lr_batch.ipynb results/notebooks/03_lr_batch.demo.ipynb \
	  -p budget 0.08 -p base baseline -p device cpu -p precision auto -p channels_last True \
	  -p results_dir results/demo -p figures_dir figures/demo \
	  -y '{"synthetic": $(DEMO_DATA), "overrides": $(DEMO_MODEL)}'
	$(PY) -m catpose_lib table lr_batch --results results/demo
