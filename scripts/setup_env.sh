#!/usr/bin/env bash
# One-command, reproducible install of the catpose stack into .venv/ (used by `make setup`
# and by .ci/run).  conda users get the same pins from environment.yml, which calls this
# script's pip steps through requirements/*.txt and then runs `bash scripts/setup_env.sh --in-env`.
#
#   bash scripts/setup_env.sh            # create/refresh .venv with python3.11
#   PYTHON=python3.11 VENV=.venv bash scripts/setup_env.sh
#   bash scripts/setup_env.sh --in-env   # install into the active python (conda env)
#
# Built wheels (mmcv with compiled ops, xtcocotools) are cached outside the repo in
# $CATPOSE_CACHE (default ~/.cache/catpose), so a second setup on the same machine takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

MMCV_VERSION=2.1.0        # mmdet 3.3.0 refuses mmcv >= 2.2
XTCOCOTOOLS_VERSION=1.14.3
MMPOSE_VERSION=1.3.2
CACHE="${CATPOSE_CACHE:-$HOME/.cache/catpose}"
WHEELS="$CACHE/wheels"
mkdir -p "$WHEELS"
t0=$(date +%s)

if [[ "${1:-}" == "--in-env" ]]; then
  PY="${PYTHON:-python}"
else
  VENV="${VENV:-.venv}"
  if [[ ! -x "$VENV/bin/python" ]]; then
    "${PYTHON:-python3.11}" -m venv "$VENV"
  fi
  PY="$(cd "$VENV" && pwd)/bin/python"   # absolute: the mmcv build runs in another folder
fi
PIP=("$PY" -m pip --disable-pip-version-check)

# setuptools < 81: mmcv 2.1.0's setup.py and mmengine import pkg_resources (removed in 81).
"${PIP[@]}" install -q --upgrade pip "setuptools<81" wheel ninja cython
"${PIP[@]}" install -q -r requirements/torch.txt
"${PIP[@]}" install -q -r requirements/base.txt

# xtcocotools: the PyPI wheel is compiled against numpy 1.x and fails on numpy 2 with
# "numpy.dtype size changed", so build it from source against the installed numpy.
if ! "$PY" -c "import xtcocotools.coco" 2>/dev/null; then
  whl=$(ls "$WHEELS"/xtcocotools-"$XTCOCOTOOLS_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [[ -z "$whl" ]]; then
    "${PIP[@]}" wheel -q --no-deps --no-binary xtcocotools --no-build-isolation \
      -w "$WHEELS" "xtcocotools==$XTCOCOTOOLS_VERSION"
    whl=$(ls "$WHEELS"/xtcocotools-"$XTCOCOTOOLS_VERSION"-*.whl | head -1)
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$whl"
fi

# mmcv with compiled ops (mmpose 1.3.2 imports mmcv.ops and mmdet when its model registry
# loads, so mmcv-lite is not enough).  The wheel is specific to python x torch x cuda.
tag=$("$PY" -c "import sys,torch;print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.split(\"+\")[0]}-'+('cuda' if torch.cuda.is_available() else 'cpu'))")
MMCV_DIR="$WHEELS/mmcv-$MMCV_VERSION-$tag"
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__=='$MMCV_VERSION'" 2>/dev/null; then
  whl=$(ls "$MMCV_DIR"/mmcv-*.whl 2>/dev/null | head -1 || true)
  if [[ -z "$whl" ]]; then
    echo "[setup] building mmcv $MMCV_VERSION with ops for $tag (tens of minutes on 2 cores; cached afterwards)"
    src=$(mktemp -d)
    "${PIP[@]}" download -q --no-deps --no-binary mmcv --no-build-isolation -d "$src" "mmcv==$MMCV_VERSION"
    tar -xzf "$src"/mmcv-"$MMCV_VERSION".tar.gz -C "$src"
    # mmcv's setup.py forces -std=c++17, but torch >= 2.13 headers need C++20.
    sed -i 's/-std=c++1[47]/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$MMCV_DIR"
    # MMCV_WITH_OPS=1 builds the compiled ops; no build isolation so it compiles against our torch.
    (cd "$src/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$MMCV_DIR" .)
    rm -rf "$src"
    whl=$(ls "$MMCV_DIR"/mmcv-*.whl | head -1)
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$whl"
  "${PIP[@]}" install -q addict yapf packaging   # mmcv's own pure-python requirements
fi

# mmpose without its declared requirements: `chumpy` does not build and is never imported;
# its real requirements are listed in requirements/base.txt.
"${PIP[@]}" install -q --no-deps "mmpose==$MMPOSE_VERSION"

# the project itself (editable), and a Jupyter kernel of this environment for papermill/JupyterLab
"${PIP[@]}" install -q --no-deps -e .
"$PY" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (catpose)" >/dev/null

"$PY" -c "import mmpose.models, mmcv.ops, mmdet, catpose_lib; import torch, mmcv, mmengine, mmpose; print('[setup] ok: torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__, 'mmdet', mmdet.__version__, 'mmpose', mmpose.__version__, 'catpose', catpose_lib.__version__)"
echo "[setup] done in $(( $(date +%s) - t0 )) s"
