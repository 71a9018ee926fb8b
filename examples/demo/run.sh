#!/usr/bin/env bash
# The main job end to end on the shipped example: LAMMPS with the dprs
# plugin (2 MPI ranks), then postproc (MSD, D, VACF/VDOS, g(r)) with plots.
# Called by `make demo`, which builds the plugin and postproc first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${DPRS_VENV:-$ROOT/.venv}
OUT=${DPRS_DEMO_OUT:-$ROOT/out/demo}
NP=${DPRS_DEMO_NP:-2}
TEMP=${DPRS_DEMO_TEMP:-2000}
STEPS=${DPRS_DEMO_STEPS:-2000}
mkdir -p "$OUT"
cd "$OUT"
# a demo run replaces the previous demo's results (postproc itself keeps old
# outputs aside instead of overwriting them)
rm -rf postproc report report.previous*

echo "== LAMMPS + pair_style dprs ($NP MPI ranks) in $OUT"
# LAMMPS loads every *plugin.so in LAMMPS_PLUGIN_PATH at start: here the
# libdprsplugin.so of `make plugin` (a pip-installed dprs needs nothing)
LAMMPS_PLUGIN_PATH="$ROOT/build/lib" "$VENV/bin/mpirun" -np "$NP" "$VENV/bin/lmp" -nocite -log log.lammps \
  -var model "$ROOT/models/cu-eam-standin.onnx" \
  -var temp "$TEMP" -var steps "$STEPS" -in "$ROOT/examples/demo/in.demo" > lammps.out
grep -E "^dprs: model|^Loop time|^Performance" lammps.out | tail -3

echo "== postproc: MSD, D per axis, VACF/VDOS"
"$ROOT/build/bin/postproc" diffusion dump.lammpstrj --timestep 0.001 --temperature "$TEMP" \
  --mass 1=63.546 --out postproc --json > diffusion.json
echo "== postproc: g(r)"
"$ROOT/build/bin/postproc" rdf dump.lammpstrj --out postproc --json > rdf.json

echo "== postproc report: a planted chain-melting series (1D cooperative hops along x in sc,"
echo "   Arrhenius hop rate with Ea = 0.3 eV), to show what chain melting looks like in every figure"
"$ROOT/build/bin/gen_chains" "$OUT/chains" 1000 1300 1600 2000 > /dev/null
runs=()
for T in 1000 1300 1600 2000; do runs+=("$OUT/chains/chains_${T}K.lammpstrj@$T"); done
"$ROOT/build/bin/postproc" report "${runs[@]}" --dt 0.02 --mass 1=40.078 --out "$OUT/report" > /dev/null

python3 - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
d = json.loads((out / "diffusion.json").read_text())
r = json.loads((out / "rdf.json").read_text())
D = d.get("D") or d.get("msd", {}).get("D", {})
print("D (Å²/ps):", ", ".join(f"{k} {v['value']:.4g} ± {v['stderr']:.2g}" for k, v in D.items()))
for key in ("D_from_F0", "D_green_kubo", "peak_THz"):
    v = d.get(key, d.get("vdos", {}).get(key))
    if v is not None:
        print(f"{key}: {v:.4g}")
for pair, v in r.get("pairs", {}).items():
    print(f"g(r) {pair}: first peak {v['first_peak_A']:.3f} Å, coordination {v['coordination']:.2f}")
print("figures:", ", ".join(sorted(p.name for p in (out / 'postproc').glob('*.png'))))
report = json.loads((out / "report" / "summary.json").read_text())
ea = report.get("arrhenius", {}).get("Ea_eV", {})
if ea:
    print(f"chain-melting report: Ea = {ea['value']:.3f} ± {ea['stderr']:.3f} eV (planted 0.3 eV)")
print("report index:", out / "report" / "index.html")
PY
echo "== done: results in $OUT"
