#!/usr/bin/env bash
# Build the MMDetection + MMPose environment of the pose extraction
# (tools/data/extract_2d_skeleton.py --backend mmpose) in its own venv.
#
#   bash tools/pose_env.sh            # or: make pose-env
#   .venv-pose/bin/python tools/data/extract_2d_skeleton.py videos.txt out.pkl
#
# What it installs, and why (each line was needed on a fresh machine):
# - torch 2.13.0 (the main Makefile's TORCH_SPEC version) as the registry's
#   standard build, with torchvision 0.28.0 built against it. mmpose.apis
#   imports torchvision (its SimCC visualiser), and the registry's
#   torchvision does not import with the CPU-only torch wheel ("operator
#   torchvision::nms does not exist"); torchvision has no source
#   distribution in the registry to build it against the CPU wheel. The
#   standard torch build runs on a CPU as well (it brings the CUDA runtime
#   wheels, a few GB). "===" keeps pip from taking a local "+cpu" wheel.
# - mmcv 2.1.0 built from source WITH its compiled ops (NMS, RoIAlign used
#   by Faster R-CNN), in place of the main venv's mmcv-lite. The build
#   (7 min 19 s on 2 cores here) goes into a wheel cache keyed by the torch
#   build, so a second run only installs the wheel.
# - xtcocotools built from source against numpy 2 (its registry wheel is
#   built for numpy 1 and fails to import); imported by mmpose.datasets.
# - mmdet 3.3.0 and mmpose 1.3.2 with --no-deps (mmpose declares chumpy,
#   used only by SMPL, which does not build on numpy 2), then the modules
#   their top-down inference path imports.
# - this project with --no-deps (its mmcv-lite requirement would overwrite
#   mmcv's Python files), then its other requirements.
#
# Environment: POSE_VENV (.venv-pose), PYTHON_BIN (python3),
# MMSKELCL_WHEEL_CACHE (~/.cache/mmskelcl/wheels), POSE_TORCH_SPEC,
# POSE_TORCHVISION_SPEC, MAX_JOBS (compiler jobs of the mmcv build).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${POSE_VENV:-.venv-pose}
PYTHON_BIN=${PYTHON_BIN:-python3}
CACHE=${MMSKELCL_WHEEL_CACHE:-$HOME/.cache/mmskelcl/wheels}
TORCH_SPEC=${POSE_TORCH_SPEC:-torch===2.13.0}
TORCHVISION_SPEC=${POSE_TORCHVISION_SPEC:-torchvision==0.28.0}
MMCV_VERSION=2.1.0
XTCOCOTOOLS_VERSION=1.14.3
export MAX_JOBS=${MAX_JOBS:-$(nproc)}

case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"  # the venv's ninja for the builds
PIP=("$PY" -m pip)
START=$(date +%s)
step() { echo "[pose-env $(( $(date +%s) - START ))s] $*"; }

if [ ! -x "$PY" ]; then
    step "creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi
"${PIP[@]}" install -q --upgrade pip

PY_TAG=$("$PY" -c "import sys; print(f'py{sys.version_info[0]}{sys.version_info[1]}')")

# torch and torchvision with their CUDA runtime wheels (a few GB): kept in
# the cache too, since the registry's downloads are not cached by pip here.
DL="$CACHE/downloads/$(echo "$TORCH_SPEC-$TORCHVISION_SPEC" | tr -c 'A-Za-z0-9.-' '_')$PY_TAG"
if [ ! -f "$DL/.complete" ]; then
    step "downloading $TORCH_SPEC and $TORCHVISION_SPEC into $DL"
    mkdir -p "$DL"
    "${PIP[@]}" download -q -d "$DL" "$TORCH_SPEC" "$TORCHVISION_SPEC"
    touch "$DL/.complete"
fi
step "installing torch ($TORCH_SPEC) and $TORCHVISION_SPEC from $DL"
"${PIP[@]}" install -q --no-index --find-links "$DL" "$TORCH_SPEC" \
    "$TORCHVISION_SPEC"
# Runtime requirements of mmcv, and what building mmcv and xtcocotools from
# source needs (mmcv's setup.py imports pkg_resources: setuptools < 70 while
# building). After: torch's own requirement, setuptools >= 77, but < 81,
# which still has pkg_resources (mmengine's get_installed_path imports it
# when mmpose.apis is imported).
"${PIP[@]}" install -q "numpy>=2" mmengine==0.10.7 opencv-python addict \
    packaging pillow pyyaml yapf

# build_cached NAME VERSION TAG: install NAME==VERSION from the wheel cache,
# building it from its source distribution (against this venv's torch and
# numpy) the first time. TAG names what the build depends on. The build
# runs in a kept folder with ninja, so a build that was stopped goes on
# from the objects it had compiled when run again.
build_cached() {
    local name=$1 version=$2 tag=$3
    local dir="$CACHE/$name-$version-$tag"
    local src="$CACHE/build/$name-$version-$tag"
    if ! ls "$dir"/*.whl >/dev/null 2>&1; then
        step "building $name $version ($tag) in $src"
        "${PIP[@]}" install -q "setuptools<70" wheel cython
        command -v ninja >/dev/null || "${PIP[@]}" install -q ninja
        local tmp
        tmp=$(mktemp -d)
        if [ ! -f "$src/setup.py" ]; then
            rm -rf "$src"
            "${PIP[@]}" download -q --no-deps --no-binary :all: \
                --no-build-isolation "$name==$version" -d "$tmp"
            mkdir -p "$src"
            tar -xzf "$tmp"/*.tar.gz -C "$src" --strip-components=1
            rm -f "$tmp"/*.tar.gz
        fi
        MMCV_WITH_OPS=1 "${PIP[@]}" wheel -q --no-deps --no-build-isolation \
            "$src" -w "$tmp"
        mkdir -p "$dir"
        mv "$tmp"/*.whl "$dir"/
        rm -rf "$tmp" "$src"
    else
        step "$name $version ($tag) from the wheel cache $dir"
    fi
    "${PIP[@]}" install -q --no-deps --force-reinstall "$dir"/*.whl
}

TORCH_TAG=$("$PY" -c "import torch
cuda = torch.cuda.is_available() and torch.version.cuda
print(f'torch{torch.__version__}-' + (f'cu{cuda}' if cuda else 'cpuops'))")
build_cached mmcv "$MMCV_VERSION" "$TORCH_TAG-$PY_TAG"
NUMPY_MAJOR=$("$PY" -c "import numpy; print(numpy.__version__.split('.')[0])")
build_cached xtcocotools "$XTCOCOTOOLS_VERSION" "numpy$NUMPY_MAJOR-$PY_TAG"
"${PIP[@]}" install -q "setuptools>=77.0.3,<81"

step "mmdet 3.3.0, mmpose 1.3.2 (--no-deps) and what inference imports"
"${PIP[@]}" install -q --no-deps mmdet==3.3.0 mmpose==1.3.2
# What import mmdet.apis / mmpose.apis reach first: pycocotools,
# terminaltables, shapely, scipy, matplotlib (mmdet), munkres, six (mmpose);
# setup.py's `pose` extra is this list (a test keeps the two equal).
POSE_REQUIRES=(matplotlib munkres pycocotools scipy shapely six terminaltables)
"${PIP[@]}" install -q "${POSE_REQUIRES[@]}"

step "mmskelcl (-e . --no-deps) and its requirements but mmcv-lite"
"${PIP[@]}" install -q --no-deps -e .
"${PIP[@]}" install -q mmaction2==1.2.0 importlib-metadata tqdm \
    pytest pytest-timeout

step "checking the imports"
"$PY" - <<'EOF'
import mmcv
import mmdet
import mmpose
import torch
import torchvision
from mmcv.ops import nms, roi_align  # noqa: F401 (compiled ops)
from mmdet.apis import inference_detector, init_detector  # noqa: F401
from mmpose.apis import inference_topdown, init_model  # noqa: F401

import mmskelcl.datasets.pose_extraction  # noqa: F401
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
_, keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
assert keep.tolist() == [0], keep
print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, '
      f'mmpose {mmpose.__version__}')
EOF
step "done: $VENV"
