#!/usr/bin/env bash
# The second lane of the long CPU runs, beside scripts/long_runs.sh: what does not wait for the
# ResNet-50 start checkpoint.  On 2 cores run both lanes with one thread each; two processes of
# two threads on two cores thrash (an epoch 15x slower, measured):
#
#   OMP_NUM_THREADS=1 setsid nohup bash scripts/long_runs.sh   > ~/.cache/catpose/logs/long_runs.log 2>&1 &
#   OMP_NUM_THREADS=1 setsid nohup bash scripts/long_runs_b.sh > ~/.cache/catpose/logs/long_runs_b.log 2>&1 &
#
# 1. the proof's scratch arm (the course baseline from scratch on the real cats, 3 seeds)
# 2. the proof's cross-species arm, seeds the first lane has not claimed (needs its checkpoint)
# 3. the cross-species pretraining of HRNet-W32 (CPU protocol, 30 of 100 epochs)
# Runs are claimed: where both lanes reach the same run, one trains it and the other skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CATPOSE_CACHE:-$HOME/.cache/catpose}"
W="$CACHE/cpu_protocol"
PY=.venv/bin/python
"$PY" benchmarks/pretrain_transfer.py --data "$CACHE/data/animalpose_cats" --results "$W/transfer" \
  --seeds 0,1,2 --arm "scratch::"
INIT="$CACHE/pretrained/pretrain_resnet50_s0.pth"
while [ ! -f "$INIT" ]; do sleep 60; done
"$PY" benchmarks/pretrain_transfer.py --data "$CACHE/data/animalpose_cats" --init "$INIT" \
  --results "$W/transfer" --seeds 0,1,2 --arm "cross_species:init:"
"$PY" -m catpose_lib pretrain --data ../shared/datasets/animalpose_others \
  --zero-shot ../shared/datasets/animalpose_cats --results "$W/results" --backbone hrnet_w32 --budget 0.3
# 4. a second worker on the study of scripts/long_runs.sh (issue 11): runs it has not claimed
bash scripts/study_cpu.sh --helper
