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

# The study as a paper: one HTML file (figures embedded) built from the results folder and the
# figures drawn from it; with the data present, the final model's val figures are redrawn too.
REPORT_RESULTS ?= results/real_cats
REPORT_FIGURES ?= figures/real_cats
REPORT_DATA ?= $(HOME)/.cache/catpose/data/animalpose_cats
.PHONY: report
report: setup     ## results/report/catpose_report.html from the study's results
	$(PY) -m catpose_lib report --results $(REPORT_RESULTS) --figures $(REPORT_FIGURES) \
		$(if $(wildcard $(REPORT_DATA)/annotations/val.json),--data-root $(REPORT_DATA)) --out results/report

# The whole real-cat study, resumable (run it again after an interruption): the data imported,
# the starts it lacks pretrained, notebooks 00-07; it prints its expected time on this machine first.
PROTOCOL ?= cpu
DATA ?= ../shared/datasets/animalpose_cats
OTHERS ?= ../shared/datasets/animalpose_others
TEST ?= ../shared/datasets/animalpose_cats_test
LANES ?= 2
.PHONY: study
study: setup      ## the whole study (PROTOCOL=cpu|full DATA=cats OTHERS=other animals TEST=blind set LANES=2)
	$(PY) -m catpose_lib study --protocol $(PROTOCOL) --data $(DATA) --others $(OTHERS) \
	  $(if $(wildcard $(TEST)),--test $(TEST)) --lanes $(LANES)
