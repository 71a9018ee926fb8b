#!/usr/bin/env bash
# First timing of pair_style dprs on the 8000-atom input: µs/step/atom and
# peak RSS, serial and mpirun -np 2. Usage: bench/plugin/run.sh [steps]
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
VENV=${DPRS_VENV:-$ROOT/.venv}
STEPS=${1:-50}
PLUGIN=$ROOT/build/lib/libdprs.so
for model in test-typesel-fp64.onnx test-any-fp64.onnx test-any-fp32.onnx; do
  for np in 1 2; do
    launch=("$VENV/bin/lmp"); [ "$np" -gt 1 ] && launch=("$VENV/bin/mpirun" -np "$np" "$VENV/bin/lmp")
    log=$(mktemp)
    /usr/bin/time -v "${launch[@]}" -nocite -log none -var model "$ROOT/models/$model" -var steps "$STEPS" \
      -in <(printf 'plugin load %s\n' "$PLUGIN"; cat in.bench8000) > "$log" 2>&1
    loop=$(grep "^Loop time" "$log" | tail -1 | awk '{print $4}')
    rss=$(grep "Maximum resident" "$log" | awk '{print $6}')
    python3 -c "import sys; l,s,np,rss=float('$loop'),int('$STEPS'),$np,int('$rss'); print(f'$model np={np}: {l/s*1e6/8000:.2f} µs/step/atom ({l/s*1e3:.1f} ms/step), peak RSS {rss/1024:.0f} MB (max over ranks)')"
    rm -f "$log"
  done
done
