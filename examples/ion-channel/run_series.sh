#!/usr/bin/env bash
# NPT at several pressures + per-species MSD along a, b, c.
#   MODEL=my.onnx DATA=channel.data ELEMENTS="Ca Al O" PRESSURES="0 10 20 40" \
#     TEMP=1200 STEPS=100000 NP=8 examples/ion-channel/run_series.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${DPRS_VENV:-$ROOT/.venv}
OUT=${OUT:-$ROOT/out/ion-channel}
: "${MODEL:?set MODEL to your .onnx}" "${DATA:?set DATA to a LAMMPS data file}" "${ELEMENTS:?set ELEMENTS, e.g. \"Ca Al O\"}"
PRESSURES=${PRESSURES:-"0 10 20"}
TEMP=${TEMP:-1000}
EQUIL=${EQUIL:-1000}
STEPS=${STEPS:-5000}
EVERY=${EVERY:-20}
DT=${DT:-0.001}
NP=${NP:-1}
DATA=$(realpath "$DATA"); MODEL=$(realpath "$MODEL")
mkdir -p "$OUT"; cd "$OUT"
for P in $PRESSURES; do
  echo "== NPT $P GPa, $TEMP K"
  "$VENV/bin/mpirun" -np "$NP" "$VENV/bin/lmp" -nocite -log "log.${P}GPa.lammps" -screen none \
    -var plugin "$ROOT/build/lib/libdprs.so" -var model "$MODEL" -var data "$DATA" \
    -var elements "$ELEMENTS" -var press "$P" -var temp "$TEMP" -var equil "$EQUIL" \
    -var steps "$STEPS" -var every "$EVERY" -var dt "$DT" -in "$HERE/in.ion-channel"
  "$ROOT/build/bin/postproc" msd "dump.${P}GPa.lammpstrj" --by-type --timestep "$DT" \
    --out "msd.${P}GPa" --json > "msd.${P}GPa.json"
  echo "   per-species D: $OUT/msd.${P}GPa.json (figures in msd.${P}GPa/)"
done
# a-b plane (D "xy") vs channel axis c (D "z"), per species and pressure
python3 - $PRESSURES <<'PY'
import json, sys
for p in sys.argv[1:]:
    d = json.load(open(f"msd.{p}GPa.json"))
    for g, v in d["groups"].items():
        ab, c = v["D"]["xy"], v["D"]["z"]
        print(f"{p:>6} GPa {g:>6}: D_ab = {ab['value']:.4g} ± {ab['stderr']:.2g}  "
              f"D_c = {c['value']:.4g} ± {c['stderr']:.2g} Å²/ps")
PY
