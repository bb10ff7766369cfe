#!/usr/bin/env bash
# The GIFs of docs/visualization.md, made by tools/analysis/vis_skeleton.py.
#
#   bash tools/misc/vis_docs_gifs.sh [NWUCLA_PKL] [OUT_DIR]
#
# 1. OUT_DIR/vis_demo.gif: a pair of near-identical classes of the bundled
#    demo set (generated if missing), 2D, labels from the demo's class list.
# 2. OUT_DIR/vis_nwucla.gif: real NW-UCLA (default data/nwucla/nwucla.pkl,
#    made by tools/data/nwucla_to_pkl.py from all_sqe/*.json), one clip of
#    four classes from the view azimuth 30, elevation 10. Skipped with a
#    message when the pickle is missing. Its size is printed: docs/images
#    keeps only small files, so a GIF over ~300 KB stays uncommitted.
# OUT_DIR defaults to docs/images. PY (default .venv/bin/python, else
# python) runs the tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
UCLA=${1:-data/nwucla/nwucla.pkl}
OUT=${2:-docs/images}
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

demo=data/demo/finegym_demo.pkl
[ -f "$demo" ] || "$PY" -m mmskelcl.utils.demo_data "$demo"
"$PY" -c 'from mmskelcl.utils.demo_data.motions import class_names
print("\n".join(class_names()))' > "$tmp/demo_classes.txt"
"$PY" tools/analysis/vis_skeleton.py "$demo" "$OUT/vis_demo.gif" \
    --class straight_jump --class stag_jump --max 1 --split val --fit \
    --size 128 --step 2 --fps 6 --label-map "$tmp/demo_classes.txt"

if [ -f "$UCLA" ]; then
    "$PY" tools/analysis/vis_skeleton.py "$UCLA" "$OUT/vis_nwucla.gif" \
        --split val --class 'pick up with one hand' --class 'drop trash' \
        --class 'sit down' --class 'throw' --max 1 --cols 4 \
        --view 30 10 --size 128 --step 2 --fps 6
else
    echo "skipped NW-UCLA: $UCLA not found (convert all_sqe with" \
         "tools/data/nwucla_to_pkl.py)"
fi
ls -l "$OUT"/vis_*.gif
