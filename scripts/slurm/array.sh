#!/usr/bin/env bash
# N workers of one block as a SLURM job array: every task runs the same `run` command on the
# same results folder (shared filesystem) and Optuna study (docs/workers.md): each takes the next
# run nobody trains, until none is left, and does not wait for the others.  A dead task's run is
# taken, after the heartbeat grace, by the next worker that looks, and resumed.  Several nodes:
# give a database URL all of them reach (--storage postgresql://...; SQLite is for one machine).
#
#   ARGS=(03 --data data/animalpose_cats --results results/real_cats --seeds 0,1,2 --start ckpt.pth)
#   N=$(.venv/bin/python -m catpose_lib run "${ARGS[@]}" --count-tasks)   # at most this many are busy
#   sbatch --array=1-$N scripts/slurm/array.sh "${ARGS[@]}" --storage postgresql://user:pw@db/catpose
#
# Then `run "${ARGS[@]}"` once (it finds the runs done, waits for any left, confirms the winner).
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
[ $# -ge 1 ] || { echo "usage: sbatch --array=1-N scripts/slurm/array.sh BLOCK --data D --results R [run options]" >&2; exit 2; }
# sbatch runs a copy of this script from its spool: the checkout is where the job was submitted
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
PY="${CATPOSE_PYTHON:-.venv/bin/python}"
exec "$PY" -m catpose_lib run "$@" --no-wait
