#!/usr/bin/env bash
# The GPU suite on a lent device machine, as one command.
#
#   bash tools/misc/bench_gpu_device.sh [benchmark.py arguments]
#
# The machine is bare (python3 with torch, no package index): this installs
# the wheels carried in WHL (default .whl, from tools/misc/device_wheels.sh)
# into SITE (default /tmp/site), prints the versions and the device, then
# runs `tools/benchmark.py --suite gpu` and writes suite.md, suite.json and
# suite.log into $OUT (the device tool brings that folder back) or
# work_dirs/bench_gpu. The suite stops starting items after 7 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHL=${WHL:-.whl}
SITE=${SITE:-/tmp/site}
DEST=${OUT:-work_dirs/bench_gpu}
PY=${PY:-python3}
if ! ls "$WHL"/*.whl >/dev/null 2>&1; then
  echo "error: no wheels in $WHL/: run 'make device-wheels' on the machine" \
    "with a package index and carry $WHL" >&2
  exit 2
fi
"$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target "$SITE" "$WHL"/*.whl
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$DEST"
"$PY" - <<'PYEOF' 2>&1 | tee "$DEST/suite.log"
import platform
import torch
import mmaction, mmengine, mmskelcl
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'
print(f'python {platform.python_version()}, torch {torch.__version__}, '
      f'mmengine {mmengine.__version__}, mmaction2 {mmaction.__version__}, '
      f'mmskelcl {mmskelcl.__version__}; GPU: {gpu}')
PYEOF
"$PY" tools/benchmark.py --suite gpu --out "$DEST/suite" "$@" 2>&1 \
  | tee -a "$DEST/suite.log"
