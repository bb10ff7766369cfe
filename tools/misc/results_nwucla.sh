#!/usr/bin/env bash
# The NW-UCLA grid behind docs/results.md, as one command (make
# results-nwucla): every method and encoder on the real skeletons under the
# reduced schedule, paired by seed, then the table and plot.
#
#   tools/misc/results_nwucla.sh [run|status|table]
#
# run (default): convert the skeletons once, then run part 1 (CTR-GCN and
# its four methods, seeds 1-3) and part 2 (the other encoders with and
# without CSRE, CACL+FR-Head+CSRE, HCN, SkeAttnCLR pretrain>probe against
# random>probe, with the released probe and a BatchNorm probe; seeds
# 1-2), then write the table. Finished runs (their JSON in RESULTS) are
# skipped and an interrupted run resumes from its last checkpoint, so the
# same command continues a grid, also on another machine that has the
# JSONs. status: where the grid stands and the time it
# still needs (starts nothing). table: only the table and plot.
#
# Environment: SQE (NW-UCLA all_sqe folder, default ../shared/data/nwucla/
# all_sqe), ANN (its pickle, default data/nwucla/nwucla.pkl), WORK (runs,
# default work_dirs/nwucla_grid), RESULTS (JSONs, default
# docs/results/nwucla), DOC (page whose table block is filled, default
# docs/results.md), JOBS / THREADS (default 2 x 1: two workers that each
# train one run at a time with one thread, sharing the runs through their
# locks), PY (python).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-run}
PY=${PY:-python}
SQE=${SQE:-../shared/data/nwucla/all_sqe}
ANN=${ANN:-data/nwucla/nwucla.pkl}
WORK=${WORK:-work_dirs/nwucla_grid}
RESULTS=${RESULTS:-docs/results/nwucla}
DOC=${DOC:-docs/results.md}
JOBS=${JOBS:-2}
THREADS=${THREADS:-1}
C=configs/nwucla

case $MODE in
  # JOBS workers, each one run at a time through every group in order
  # (below), rather than one grid of JOBS jobs per group
  run) EXTRA=(--jobs 1 --threads-per-job "$THREADS") ;;
  status) EXTRA=(--jobs "$JOBS") ;;
  table) ;;
  *) echo "usage: $0 [run|status|table]" >&2; exit 2 ;;
esac

# the entries, once: part 1 (seeds 1-3), part 2 (seeds 1-2) on the same
# schedule, HCN (its own per-epoch lr decay) and the SkeAttnCLR protocol
P1=(ctrgcn_j cacl_ctrgcn_j skeletongcl_ctrgcn_j frhead_ctrgcn_j csre_ctrgcn_j)
P2=(agcn_j csre_agcn_j blockgcn_j csre_blockgcn_j infogcn_j csre_infogcn_j
    hyperformer_j csre_hyperformer_j cacl_frhead_csre_ctrgcn_j)
HCN=(hcn_j csre_hcn_j)
# the released lr-3.0 probe, then the same probe with a BatchNorm of the
# pooled feature (ProbeHead feat_norm='bn'): the released probe diverges on
# the random backbone's unnormalised features (docs/skeattnclr.md)
SSL=("skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear"
     "random>skeattnclr_stgcn_j_linear"
     "skeattnclr_stgcn_j_pretrain>skeattnclr_stgcn_j_linear_bn"
     "random>skeattnclr_stgcn_j_linear_bn")
cfgs() {  # entry names -> config paths (PRETRAIN>LINEAR, random>LINEAR)
  for e in "$@"; do
    case $e in
      random\>*) echo "random>$C/${e#random>}.py" ;;
      *) echo "$C/${e//>/.py>$C/}.py" ;;
    esac
  done
}

if [ "$MODE" != table ]; then
  if [ ! -f "$ANN" ]; then
    if [ "$MODE" = status ]; then
      echo "error: $ANN not found (make results-nwucla converts it)" >&2
      exit 1
    fi
    [ -d "$SQE" ] || { echo "error: NW-UCLA skeletons not found: $SQE" \
      "(set SQE=path/to/all_sqe)" >&2; exit 1; }
    "$PY" tools/data/nwucla_to_pkl.py "$SQE" "$ANN"
  fi
  STEPS=(--passes 30 --repeat 5 --batch-size 16 --warmup-passes 3
         --lr-steps 24)
  COMMON=(--ann-file "$ANN" --work-dir "$WORK" --results-dir "$RESULTS"
          "${EXTRA[@]}")
  RC=0  # a failed run is reported; the other runs go on
  grid() { "$PY" tools/experiment.py "$MODE" "$@" "${COMMON[@]}" || RC=1; }
  mapfile -t CP1 < <(cfgs "${P1[@]}")
  mapfile -t CP2 < <(cfgs "${P2[@]}")
  mapfile -t CHCN < <(cfgs "${HCN[@]}")
  mapfile -t CSSL < <(cfgs "${SSL[@]}")
  groups() {
    grid "${CP1[@]}" --seeds 1 2 3 "${STEPS[@]}"
    # part 2, the short runs first (HCN and the SkeAttnCLR protocol take a
    # fraction of a GCN run), so their rows land early
    grid "${CHCN[@]}" --seeds 1 2 --passes 30 --repeat 5 --batch-size 16
    # SkeAttnCLR, the shortened recipe of docs/skeattnclr.md (half width)
    grid "${CSSL[@]}" --seeds 1 2 --passes 10 \
      --cfg-options model.backbone.base_channels=32 \
      model.neck.in_channels=128 model.neck.projector.in_channels=128 \
      --probe-passes 15 --probe-lr-steps 10 --probe-cfg-options \
      model.backbone.base_channels=32 model.cls_head.in_channels=128
    grid "${CP2[@]}" --seeds 1 2 "${STEPS[@]}"
  }
  if [ "$MODE" = run ] && [ "$JOBS" -gt 1 ]; then
    # JOBS workers walk the same list; each run holds its lock, so a
    # worker skips the run another is training ("busy") and takes the
    # next, also across groups: no core idles while a group's last run
    # trains alone
    PIDS=()
    for _ in $(seq 2 "$JOBS"); do
      ( groups; exit $RC ) & PIDS+=($!)
      sleep 1  # the worker started first takes the first run
    done
    groups
    for pid in "${PIDS[@]}"; do wait "$pid" || RC=1; done
  else
    groups
  fi
  [ "$MODE" = status ] && exit $RC
fi

"$PY" tools/experiment.py table "$RESULTS" \
  --expect "${P1[@]/%/:1,2,3}" "${P2[@]/%/:1,2}" "${HCN[@]/%/:1,2}" \
  "${SSL[@]/%/:1,2}" \
  --out "$RESULTS/table.md" --into "$DOC"
exit ${RC:-0}
