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

# The demo: block 03 (12 runs + the baseline) on easy synthetic cats, in under 15 minutes on 2 CPU
# cores: ResNet-18 SimpleBaseline at 64x64 px (16x16 heatmaps, sigma 2, DARK codec, a 128-channel
# head), protocol 'demo' (5% of the reference study's epochs, at least 8: 8 of 150, the baseline
# 8 of 20), every run from the demo start's backbone with a fresh head (the start: the same model
# pretrained on 2,000 easy synthetic cats of another seed, int8-packed in demo/start/, see its
# PROVENANCE.json), so the runs learn the cats' keypoints during the demo.  Every run trains
# afresh: results/demo/ and figures/demo/ are cleared first.  DEMO_PRECISION=fp32 times it as
# on a CPU without bf16.  Settings: scripts/demo.py; docs/demo.md.
DEMO_PRECISION ?= auto
.PHONY: demo demo-start
demo: setup       ## the main job: block 03 on synthetic cats, demo budget (< 15 min on 2 CPU cores)
	$(PY) scripts/demo.py run --precision $(DEMO_PRECISION)

demo-start: setup ## rebuild the demo's start checkpoint (pretraining, ~25 min on 2 idle CPU cores)
	$(PY) scripts/demo.py start-build

# The study's executed notebooks as one shareable HTML document (figures embedded).
REPORT_NOTEBOOKS ?= results/notebooks/real_cats
.PHONY: report
report: setup     ## results/report/catpose_report.html from the executed real-cat notebooks
	$(PY) -m catpose_lib report $(REPORT_NOTEBOOKS) --out results/report
