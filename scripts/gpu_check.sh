#!/usr/bin/env bash
# The GPU check, one command, for a machine like the one lent to this project: one H200,
# python 3.12 with torch 2.11 already installed, no package registry (so everything else
# travels with the working tree, prepared here by scripts/prepare_gpu_carry.sh into the
# git-ignored folder .gpu/: py3.12 wheels, the mmcv and xtcocotools sources, the other
# animals and the real cats as compact instance crops).  It installs what is missing, then
# runs scripts/gpu_check.py (cross-species pretraining of both backbones and its proof on
# the real cats) and writes gpu_check.json, results.tar.gz and the packed start checkpoints
# under $OUT.
#
#   bash scripts/gpu_check.sh            # on the GPU machine (carry: .gpu)
#   bash scripts/gpu_check.sh --dry      # the same steps on this CPU at a tiny size (tested;
#                                        # GPU_OTHERS / GPU_CATS name course-layout roots)
#   bash scripts/gpu_check.sh --start .gpu/start/pretrain_resnet50 --arm NAME:init:KNOBS ... --deadline S
#                                        # no pretraining: the proof arms at full budget from a
#                                        # start packed here (carry .gpu/start and the cats only)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-results/gpu}"
# GPU_DEADLINE_AT (epoch seconds): --start's unfinished runs stop then, whatever the install took
if [[ -n "${GPU_DEADLINE_AT:-}" ]]; then set -- "$@" --deadline-at "$GPU_DEADLINE_AT"; fi
WORK="${GPU_WORK:-/tmp/catpose-gpu-work}"

if [[ "${1:-}" == "--dry" ]]; then
  PY="${PYTHON:-.venv/bin/python}"
  exec "$PY" scripts/gpu_check.py --dry --others "${GPU_OTHERS:-.gpu/animalpose_others_compact}" \
    --cats "${GPU_CATS:-.gpu/animalpose_cats_compact}" --out "$OUT_DIR" --work "$WORK" "${@:2}"
fi

CARRY=.gpu
SITE=/tmp/catpose-site
PY=python3
t0=$(date +%s)
mkdir -p "$SITE"
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1
if ! "$PY" -c "import mmpose.models, mmcv.ops, mmdet, xtcocotools" 2>/dev/null; then
  # 1. pure-python and binary wheels for python 3.12 (no registry there); setuptools < 81 for
  #    pkg_resources, which mmcv 2.1.0's setup.py and mmengine import
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$CARRY"/whl/*.whl
  # 2. xtcocotools from source against that machine's numpy (its wheel breaks on numpy 2)
  (cd /tmp && rm -rf xtcoco && mkdir xtcoco && tar -xzf "$OLDPWD/$CARRY"/src/xtcocotools-*.tar.gz -C xtcoco \
    && cd xtcoco/xtcocotools-* && "$PY" -m pip install -q --no-index --no-deps --no-build-isolation --target "$SITE" .)
  # 3. mmcv 2.1.0 with its ops, built for python 3.12 on 16 cores.  CPU ops only (the GPU is
  #    hidden during the build): the pose models use no mmcv CUDA op, and the CUDA build takes
  #    longer than this check's budget.  -std=c++20 for torch >= 2.13 headers, as in setup_env.sh.
  (cd /tmp && rm -rf mmcvsrc && mkdir mmcvsrc && tar -xzf "$OLDPWD/$CARRY"/src/mmcv-2.1.0.tar.gz -C mmcvsrc \
    && cd mmcvsrc/mmcv-2.1.0 && sed -i 's/-std=c++1[47]/-std=c++20/g' setup.py \
    && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" "$PY" -m pip install -q --no-index --no-deps \
       --no-build-isolation --target "$SITE" .)
fi
"$PY" -c "import mmpose.models, mmcv.ops, mmdet, catpose_lib; print('[gpu_check] stack ready')"
echo "[gpu_check] prepared in $(( $(date +%s) - t0 )) s"
# 4. pretraining + proof on the carried data
"$PY" scripts/gpu_check.py --others "$CARRY/animalpose_others_compact" --cats "$CARRY/animalpose_cats_compact" \
  --out "$OUT_DIR" --work "$WORK" "$@"
