#!/usr/bin/env bash
# One block (or one run, with --experiments N --seeds S) on several GPUs, through torchrun and
# mmengine's pytorch launcher (distributed data parallel; the batch size is per GPU, as in
# MMPose configs).  One node with 4 GPUs:
#
#   sbatch --gres=gpu:4 scripts/slurm/torchrun.sh 05 --data D --results R --start ckpt.pth
#
# Several nodes: sbatch --nodes=2 --gres=gpu:4 scripts/slurm/torchrun.sh ...  (one torchrun per
# node through srun, rendezvous on the first node).  A torchrun job is one worker: do not run
# other workers on the same runs at the same time (job arrays do that: array.sh).
#SBATCH --job-name=catpose-ddp
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:4
#SBATCH --cpus-per-task=32
#SBATCH --mem=128G
#SBATCH --time=24:00:00
#SBATCH --output=catpose-ddp-%j.out
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: sbatch scripts/slurm/torchrun.sh BLOCK --data D --results R [run options]" >&2; exit 2; }
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
PY="${CATPOSE_PYTHON:-.venv/bin/python}"
GPUS="${GPUS_PER_NODE:-$("$PY" -c 'import torch; print(torch.cuda.device_count())')}"
NODES="${SLURM_NNODES:-1}"
MASTER="$(scontrol show hostnames "${SLURM_JOB_NODELIST:-localhost}" 2>/dev/null | head -n 1 || echo localhost)"
srun --ntasks="$NODES" --ntasks-per-node=1 \
  "$PY" -m torch.distributed.run --nnodes="$NODES" --nproc_per_node="$GPUS" \
  --rdzv_backend=c10d --rdzv_endpoint="${MASTER:-localhost}:29500" --rdzv_id="${SLURM_JOB_ID:-catpose}" \
  -m catpose_lib run "$@" --launcher pytorch
