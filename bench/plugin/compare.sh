#!/usr/bin/env bash
# Step time of two builds of the plugin side by side, interleaved (A B A B ...),
# on the 8000-atom input at NP ranks: wall-clock ms/step of the timed run and
# the CPU share LAMMPS reports. For changes whose effect is small, so that
# load drift hits both builds alike.
# Usage: bench/plugin/compare.sh PLUGIN_A PLUGIN_B [model] [steps] [np] [repeats]
set -euo pipefail
A=$(realpath "$1") B=$(realpath "$2")
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
VENV=${DPRS_VENV:-$ROOT/.venv}
MODEL=${3:-test-any-fp32.onnx}
STEPS=${4:-200}
NP=${5:-2}
REPEATS=${6:-3}
launch=("$VENV/bin/lmp"); [ "$NP" -gt 1 ] && launch=("$VENV/bin/mpirun" -np "$NP" "$VENV/bin/lmp")
echo "model $MODEL, $STEPS steps, $NP ranks, $REPEATS interleaved repeats; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$REPEATS"); do
  for which in A B; do
    plugin=$A; [ "$which" = B ] && plugin=$B
    log=$(mktemp)
    "${launch[@]}" -nocite -log none -var model "$ROOT/models/$MODEL" -var steps "$STEPS" \
      -in <(printf 'plugin load %s\n' "$plugin"; cat in.bench8000) > "$log" 2>&1
    loop=$(grep "^Loop time" "$log" | tail -1 | awk '{print $4}') || { cat "$log"; exit 1; }
    cpu=$(grep "CPU use with" "$log" | tail -1 | awk '{print $1}')
    python3 -c "print(f'repeat $r $which: {float(\"$loop\")/$STEPS*1e3:.2f} ms/step wall, CPU use $cpu')"
    rm -f "$log"
  done
done
