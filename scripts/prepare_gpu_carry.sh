#!/usr/bin/env bash
# Prepare .gpu/ (git-ignored) for scripts/gpu_check.sh on the lent GPU machine:
# py3.12 wheels of what it lacks, the mmcv / xtcocotools sources, and the real cats as
# compact instance crops (the 81 MB originals do not fit the 64 MiB a call carries).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p .gpu/whl .gpu/src
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
# pure-python parts of the stack (torch, numpy, opencv, scipy, pandas are expected there; see KINDS.md)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
  -d .gpu/whl mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2 json_tricks munkres addict yapf terminaltables \
  shapely pycocotools "platformdirs" "termcolor" "rich" "markdown-it-py" "mdurl" "pygments" "tomli"
"$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d .gpu/src xtcocotools==1.14.3 mmcv==2.1.0
rm -rf .gpu/animalpose_cats_compact
if [[ ! -d "$HOME/.cache/catpose/data/animalpose_cats" ]]; then
  "$PY" -m catpose_lib import-animalpose ../shared/datasets/animalpose_cats "$HOME/.cache/catpose/data/animalpose_cats"
fi
"$PY" -m catpose_lib compact "$HOME/.cache/catpose/data/animalpose_cats" .gpu/animalpose_cats_compact --max-side 256
du -sh .gpu
