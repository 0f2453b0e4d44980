#!/usr/bin/env bash
# The long CPU runs of the open work, in order; every step is resumable (finished runs are
# skipped, interrupted ones resume from their last epoch), so after any interruption start it
# again, in the background, work dirs under ~/.cache/catpose:
#
#   setsid nohup bash scripts/long_runs.sh > ~/.cache/catpose/logs/long_runs.log 2>&1 &
#
# 1. cross-species pretraining of ResNet-50, CPU protocol: 30 of the 100 epochs (--budget 0.3)
# 2. the proof on the real cats: the course baseline from scratch vs from that start, 3 seeds
# 3. the same pretraining of HRNet-W32 (block 05 starts from it)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CATPOSE_CACHE:-$HOME/.cache/catpose}"
W="$CACHE/cpu_protocol"
PY=.venv/bin/python
OTHERS=../shared/datasets/animalpose_others
CATS=../shared/datasets/animalpose_cats
pretrain() {
  "$PY" -m catpose_lib pretrain --data "$OTHERS" --zero-shot "$CATS" --results "$W/results" --backbone "$1" --budget 0.3
}
pretrain resnet50
"$PY" benchmarks/pretrain_transfer.py --data "$CACHE/data/animalpose_cats" \
  --init "$CACHE/pretrained/pretrain_resnet50_s0.pth" --results "$W/transfer" --seeds 0,1,2 \
  --json results/benchmarks/pretrain_transfer.json --figure figures/benchmarks/pretrain_transfer.png
pretrain hrnet_w32
# 4. the whole study on the real cats under the cpu protocol (issue 11)
bash scripts/study_cpu.sh
