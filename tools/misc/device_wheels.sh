#!/usr/bin/env bash
# The wheels a lent GPU machine needs for the GPU suite, fetched here.
#
#   tools/misc/device_wheels.sh [DIR]     (make device-wheels; DIR: .whl)
#   tools/misc/device_wheels.sh --list    the requirements it fetches
#   tools/misc/device_wheels.sh --image   what it takes the image to hold
#
# The device machines (docs/user_guides/benchmark.md) run python3 3.12 with
# torch and the packages of --image, and reach no package index. This
# fetches, with pip here, the pure-Python distributions `import mmskelcl`
# needs beyond those (MMAction2's stack at setup.py's pins and what they
# import), as CPython 3.12 wheels without their dependencies; carry DIR to
# the machine and run tools/misc/bench_gpu_device.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
# mmengine, mmcv-lite, mmaction2: the pins of setup.py, read from it
mapfile -t PINS < <(grep -o "'mm[a-z0-9-]*==[0-9.]*'" setup.py | tr -d "'")
WHEELS=("${PINS[@]}" addict==2.4.0 yapf==0.43.0 platformdirs==4.14.9
        termcolor==3.3.0 importlib-metadata==10.2.0 lazy-importer==0.1.0)
# distributions the import needs that the device image already has (cv2
# from opencv-python-headless stands for mmengine's opencv-python)
IMAGE=(torch triton numpy scipy einops packaging pillow pyyaml rich
       opencv-python-headless matplotlib zipp typing-extensions setuptools
       sympy mpmath networkx filelock fsspec jinja2 markupsafe tqdm
       colorama charset-normalizer pip)
case ${1:-} in
  --list) printf '%s\n' "${WHEELS[@]}"; exit 0 ;;
  --image) printf '%s\n' "${IMAGE[@]}"; exit 0 ;;
esac
DIR=${1:-.whl}
mkdir -p "$DIR"
"${PY:-python3}" -m pip download -q --no-deps --only-binary=:all: \
  --python-version "${DEVICE_PYTHON:-3.12}" --implementation cp \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 -d "$DIR" "${WHEELS[@]}"
echo "$(ls "$DIR"/*.whl | wc -l) wheels in $DIR ($(du -sh "$DIR" | cut -f1))"
