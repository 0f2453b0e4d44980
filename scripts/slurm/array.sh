#!/usr/bin/env bash
# One block of the study as a SLURM job array: one task per experiment x seed, every task on
# the same results folder on the shared filesystem.  Each run is claimed (a lease renewed by
# a heartbeat), so a requeued or duplicated task never trains a run twice, and a task that
# takes over a dead one resumes it from its last checkpoint.
#
#   ARGS=(03 --data data/animalpose_cats --results results/real_cats --seeds 0,1,2 --init ckpt.pth)
#   N=$(.venv/bin/python -m catpose_lib run "${ARGS[@]}" --count-tasks)
#   sbatch --array=0-$((N - 1)) scripts/slurm/array.sh "${ARGS[@]}"
#
# A block whose base is 'best' needs the previous block finished first:
#   sbatch --dependency=afterok:<previous array job id> --array=... scripts/slurm/array.sh ...
# The #SBATCH lines are defaults; sbatch options on the command line override them.
#SBATCH --job-name=catpose
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=24:00:00
#SBATCH --output=catpose-%A_%a.out
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: sbatch --array=0-N scripts/slurm/array.sh BLOCK --data D --results R [run options]" >&2; exit 2; }
# sbatch runs a copy of this script from its spool: the checkout is where the job was submitted
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
PY="${CATPOSE_PYTHON:-.venv/bin/python}"
exec "$PY" -m catpose_lib run "$@" --task slurm
