#!/usr/bin/env bash
# The whole study on the real cats under the `cpu` protocol (python -m catpose_lib protocol cpu:
# 3% of each run's epochs, at least 3; the cross-species start of each backbone; seeds 1-2 added
# for the baseline and each block's winner), notebook after notebook with papermill, block after
# block with base=best.  Resumable: finished runs are skipped, interrupted ones resume.  Work dirs
# (checkpoints) under ~/.cache/catpose/study; `--sync` copies what the repo keeps (results
# without run folders, executed notebooks, figures) into results/real_cats, results/notebooks/real_cats
# and figures/real_cats.
#
#   setsid nohup bash scripts/study_cpu.sh > ~/.cache/catpose/logs/study.log 2>&1 &
#   bash scripts/study_cpu.sh --sync      # after each block (refreshes README's tables and the path
#                                         # figure, figures/real_cats/path.png), then commit
#   bash scripts/study_cpu.sh --helper    # a second worker on the same study (one thread each):
#                                         # it trains the runs the first has not taken and waits
#                                         # for the rest; its notebooks and figures are scratch
#   STUDY_RERUN=1 bash scripts/study_cpu.sh   # execute the finished notebooks again too (by
#                                         # default a restart goes on from the first unfinished one)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CATPOSE_CACHE:-$HOME/.cache/catpose}"
S="$CACHE/study"
PY=.venv/bin/python
DATA="$CACHE/data/animalpose_cats"
sync() {  # a mirror: what an earlier study left there (other runs, other keys) goes
  [ -d "$S/results" ] || { echo "no study in $S/results yet: nothing synced" >&2; return 1; }
  rm -rf results/real_cats results/notebooks/real_cats figures/real_cats
  mkdir -p results/real_cats results/notebooks/real_cats figures/real_cats
  tar -C "$S/results" --exclude=runs --exclude=.locks --exclude=studies.db -cf - . | tar -C results/real_cats -xf -
  [ -d "$S/notebooks" ] && cp "$S"/notebooks/*.ipynb results/notebooks/real_cats/ 2>/dev/null || true
  [ -d "$S/figures" ] && tar -C "$S/figures" -cf - . | tar -C figures/real_cats -xf -
  echo "synced $S into results/real_cats, results/notebooks/real_cats, figures/real_cats"
  "$PY" -m catpose_lib table path --results results/real_cats --figure figures/real_cats/path.png >/dev/null
  "$PY" scripts/readme_tables.py  # README's generated tables follow the synced results
}
if [ "${1:-}" = "--sync" ]; then sync; exit 0; fi
HELPER=0; [ "${1:-}" = "--helper" ] && HELPER=1
NB="$S/notebooks"; FIG="$S/figures"
if [ $HELPER = 1 ]; then
  NB="$S/helper/notebooks"; FIG="$S/helper/figures"
  while [ ! -f "$DATA/annotations/train.json" ]; do sleep 30; done  # the first worker imports it
else
  [ -f "$DATA/annotations/train.json" ] || "$PY" -m catpose_lib import-animalpose ../shared/datasets/animalpose_cats "$DATA"
fi
mkdir -p "$NB"
common=(-p data_root "$DATA" -p results_dir "$S/results" -p figures_dir "$FIG")
# STUDY_WORKERS=1: fewer dataloader workers per loader, for two 256 px lanes in 24 GB (workers
# forked from a 6 GB kernel duplicate its pages; the run keys leave loader workers out)
[ -n "${STUDY_WORKERS:-}" ] && common+=(-p num_workers "$STUDY_WORKERS")
done_before() {  # at a restart, a notebook whose record says every run finished is not executed again
  [ "${STUDY_RERUN:-0}" != 1 ] && { [ $HELPER = 1 ] || [ -f "$NB/$1.ipynb" ]; } \
    && "$PY" -m catpose_lib.report.record "$S/results" "$1" && echo "[study] $1: done before, not executed again"
}
[ $HELPER = 1 ] || done_before 00_dataset \
  || "$PY" -m papermill --log-output notebooks/00_dataset.ipynb "$NB/00_dataset.ipynb" "${common[@]}"
blocks=(01_augmentation 02_epochs 03_lr_batch 04_resolution 05_backbone 06_optimizer)
[ $HELPER = 1 ] || blocks+=(07_final_report)
for nb in "${blocks[@]}"; do
  if [ "$nb" = 05_backbone ]; then  # HRNet-W32's start may still be training in the other lane
    while [ ! -f "$CACHE/pretrained/pretrain_hrnet_w32_s0.pth" ]; do
      echo "waiting for $CACHE/pretrained/pretrain_hrnet_w32_s0.pth (scripts/long_runs_b.sh)"; sleep 300
    done
  fi
  done_before "$nb" && continue
  "$PY" -m papermill --log-output "notebooks/$nb.ipynb" "$NB/$nb.ipynb" "${common[@]}" \
    -p protocol cpu -p device cpu -p precision auto \
    $([ "$nb" = 07_final_report ] && echo "-p test_root $(realpath ../shared/datasets/animalpose_cats_test)")
  [ $HELPER = 1 ] || sync
done
