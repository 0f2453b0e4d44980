#!/usr/bin/env bash
# Prepare .gpu/ (git-ignored) for scripts/gpu_check.sh on the lent GPU machine (python 3.12,
# torch there, no registry, 64 MiB carried a call): py3.12 wheels of what it lacks, the mmcv
# and xtcocotools sources, and the data as compact instance crops (`catpose_lib compact`):
# the other animals (64 MB of images) and the real cats (81 MB) do not fit as they are.
# The model sees a box with 25% padding at 128 px, so crops of <= 160 / 192 px lose nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CACHE="${CATPOSE_CACHE:-$HOME/.cache/catpose}"
mkdir -p .gpu/whl .gpu/src
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
# pure-python parts of the stack (torch, numpy, opencv, scipy, pandas are expected there; see KINDS.md)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
  -d .gpu/whl mmengine==0.10.7 mmdet==3.3.0 mmpose==1.3.2 json_tricks munkres addict yapf terminaltables \
  shapely pycocotools "platformdirs" "termcolor" "tomli" "setuptools==80.9.0"
"$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d .gpu/src xtcocotools==1.14.3 mmcv==2.1.0
for name in animalpose_others animalpose_cats; do
  one=(); [[ $name == animalpose_others ]] && one=(--one-category animal)
  root="$CACHE/data/$name${one:+-animal}"
  [[ -f "$root/annotations/val.json" ]] || "$PY" -m catpose_lib import-animalpose "../shared/datasets/$name" "$root" "${one[@]}"
  rm -rf ".gpu/${name}_compact"
  side=160; [[ $name == animalpose_cats ]] && side=192
  "$PY" -m catpose_lib compact "$root" ".gpu/${name}_compact" --max-side $side
done
# one of the study's cross-species starts, int8, for gpu_check.sh --start (GPU_START=resnet50,
# 34 MB, or hrnet_w32, 30 MB: one call carries one)
ck="$CACHE/pretrained/pretrain_${GPU_START:-resnet50}_s0.pth"
rm -rf .gpu/start && mkdir -p .gpu/start
if [[ -f "$ck" ]]; then "$PY" scripts/pack_checkpoint.py pack "$ck" ".gpu/start/pretrain_${GPU_START:-resnet50}"; fi
du -sh .gpu .gpu/*
# A call carries the tracked tree too (~21 MB, 15.5 of it the demo's start), 64 MiB in all:
# --start with one start fits (whl + src + cats + start, ~55 MB) only with the demo's start
# left home for the call: `git rm -q --cached demo/start/*.part0` and list it in
# .git/info/exclude, then `git reset -q -- demo/start` and remove the line after the call.
