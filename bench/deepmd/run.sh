#!/usr/bin/env bash
# Side-by-side speed benchmark, pair_style deepmd vs pair_style dprs.
#
#   bench/deepmd/run.sh [bench.py options, e.g. --repeats 3 --ranks 1,2 --steps 20]
#
# 1. builds the plugin (make plugin) and snapshots build/lib/libdprs.so;
# 2. uses $DEEPMD_VENV (default .venv-deepmd, created with `make venv-deepmd`):
#    deepmd-kit 3.2.0 + tensorflow-cpu;
# 3. trains the reference model on EAM-labelled Cu frames until its force
#    error has levelled off (a trained net: the compressions' cost and accuracy
#    depend on its curvature) -- se_e2_a, rcut 6, sel 100, embedding
#    [25,50,100], axis 16, fitting [240,240,240], 1-type Cu -- freezes it and
#    `dp compress`es it (bench/deepmd/prepare.py, ~15 min on 2 cores; reused if
#    $WORK already has them);
# 4. converts model.pb with dprs-export, one .onnx per dprs variant ($DPRS_VARIANTS);
# 5. runs in.cu8000 (8000-atom fcc Cu, 2 warm-up + --steps NVT steps) with every
#    variant, interleaved, at 1 and 2 MPI ranks (bench/deepmd/bench.py) and
#    prints the table (also in $WORK/table.md, every run in $WORK/runs.jsonl),
#    after the accuracy of every variant against DeepPot (bench/deepmd/accuracy.py,
#    $WORK/accuracy.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/build/bench-deepmd}
DEEPMD_VENV=${DEEPMD_VENV:-$ROOT/.venv-deepmd}
# dprs variants, space-separated: name=dprs-export options[:extra pair_style words],
# each name starting with "dprs-" (e.g. "dprs-mixed-c256=--precision mixed --compress:chunk 256")
DPRS_VARIANTS=${DPRS_VARIANTS:-"dprs-f64=--precision float64 dprs-f32=--precision float32 dprs-mixed=--precision mixed dprs-compressed=--precision float64 --compress dprs-mixed-compressed=--precision mixed --compress"}
DEEPMD_VARIANTS=${DEEPMD_VARIANTS:-"deepmd-plain deepmd-compressed"}

make plugin
[ -x "$DEEPMD_VENV/bin/dp" ] || make venv-deepmd DEEPMD_VENV="$DEEPMD_VENV"
DPY=$DEEPMD_VENV/bin/python
SITE=$("$DPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$WORK/work" "$WORK/runs"
cp -f build/lib/libdprs.so "$WORK/libdprs.so"
"$DPY" bench/deepmd/prepare.py "$WORK/work"

args=()
for v in $DEEPMD_VARIANTS; do
  case $v in
    deepmd-plain) args+=(--variant "deepmd-plain=deepmd:$WORK/work/model.pb") ;;
    deepmd-compressed) args+=(--variant "deepmd-compressed=deepmd:$WORK/work/model-compressed.pb") ;;
    *) echo "unknown DeePMD variant $v" >&2; exit 2 ;;
  esac
done
# split DPRS_VARIANTS on ' dprs-' boundaries (options contain spaces)
IFS=$'\n' read -r -d '' -a dv < <(sed 's/ \(dprs-[A-Za-z0-9_-]*=\)/\n\1/g' <<<"$DPRS_VARIANTS"; printf '\0') || true
for spec in "${dv[@]}"; do
  [ -n "$spec" ] || continue
  name=${spec%%=*}; rest=${spec#*=}; opts=${rest%%:*}; words=""
  [[ $rest == *:* ]] && words=${rest#*:}
  onnx=$WORK/work/$name.onnx
  # shellcheck disable=SC2086
  PYTHONPATH=$ROOT/export TF_CPP_MIN_LOG_LEVEL=3 "$DPY" -m dprs_export deepmd "$WORK/work/model.pb" -o "$onnx" $opts 2>&1 | grep -v implib-gen
  args+=(--variant "$name=dprs:$onnx${words:+:$words}")
done

# accuracy of every variant against DeepPot on the uncompressed model
onnx_files=()
for spec in "${dv[@]}"; do [ -n "$spec" ] && onnx_files+=("$WORK/work/${spec%%=*}.onnx"); done
PYTHONPATH=$ROOT/export TF_CPP_MIN_LOG_LEVEL=3 "$DPY" bench/deepmd/accuracy.py "$WORK" \
  "$WORK/work/model.pb" "$WORK/work/model-compressed.pb" "${onnx_files[@]}" 2>&1 \
  | grep -E '^(model|dprs)' | tee "$WORK/accuracy.txt"

uptime
"$ROOT/.venv/bin/python" bench/deepmd/bench.py --work "$WORK/runs" --deepmd-site "$SITE" \
  --dprs-plugin "$WORK/libdprs.so" --json "$WORK/runs.jsonl" "${args[@]}" "$@" | tee "$WORK/last-run.txt"
sed -n '/^| ranks/,$p' "$WORK/last-run.txt" > "$WORK/table.md"
uptime
