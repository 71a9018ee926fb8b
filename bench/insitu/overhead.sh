#!/usr/bin/env bash
# Cost of fix dprs/diffusion: the fix samples every 10 steps with a 2 ps MSD
# window and a 1 ps VACF window (timestep 1 fs: 200 and 100 samples), at
# 8000 atoms (fcc Cu 20x10x10) and 21 296 atoms (22x22x11, the size of the
# Pb10(PO4)6O channel system), 1 and 2 MPI ranks.
#
# 1. The fix's cost per step once its window is full: the same run with and
#    without the fix under a cheap pair style (lj/cut, so that 2000 steps fill
#    the window in seconds), timed over 500 further steps; the fix's cost is
#    the difference of LAMMPS's "Modify" times (the time of the fixes in a
#    step), free of the noise of the whole step.
# 2. The step it is added to: pair_style dprs with MODEL, 10 steps, same sizes.
#
#   bench/insitu/overhead.sh [MODEL.onnx]
#
# Default MODEL: build/bench-deepmd/work/dprs-mixed-compressed.onnx (the
# fastest variant of bench/deepmd/run.sh's trained model: the hardest case
# for a relative overhead) if present, else the shipped models/cu-eam-standin.onnx.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEFAULT=$ROOT/build/bench-deepmd/work/dprs-mixed-compressed.onnx
[ -f "$DEFAULT" ] || DEFAULT=$ROOT/models/cu-eam-standin.onnx
MODEL=$(realpath "${1:-$DEFAULT}")
WORK=${WORK:-$ROOT/build/bench-insitu}
mkdir -p "$WORK"
LMP=$ROOT/.venv/bin/lmp
MPIRUN=$ROOT/.venv/bin/mpirun
PLUGIN=$ROOT/build/lib/libdprs.so
[ -f "$PLUGIN" ] || make plugin

run() {  # dir np input -> log.lammps in dir
  (cd "$1" && if [ "$2" = 1 ]; then "$LMP" -nocite -log log.lammps -in in.lmp; \
    else "$MPIRUN" -np "$2" "$LMP" -nocite -log log.lammps -in in.lmp; fi) > "$1/out.txt" 2>&1
}
last() {  # log column: Loop seconds or Modify seconds of the last run
  if [ "$2" = loop ]; then grep "^Loop time" "$1" | tail -1 | awk '{print $4}'
  else grep "^Modify" "$1" | tail -1 | awk -F'|' '{print $3}' | tr -d ' '; fi
}
system() {  # nx ny nz pair-lines
  cat <<IN
plugin load $PLUGIN
units metal
atom_style atomic
boundary p p p
lattice fcc 3.615
region box block 0 $1 0 $2 0 $3
create_box 1 box
create_atoms 1 box
mass 1 63.546
$4
neighbor 1.0 bin
velocity all create 1500 87287 loop geom
fix 1 all nvt temp 1500 1500 0.1
timestep 0.001
thermo 500
IN
}

echo "# $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg); dprs model $(basename "$MODEL")"
printf '| atoms | ranks | fix cost ms/step (window full) | dprs step ms | overhead |\n|---|---|---|---|---|\n'
for cells in "20 10 10" "22 22 11"; do
  read -r nx ny nz <<<"$cells"
  atoms=$((4 * nx * ny * nz))
  for np in 1 2; do
    mod=()
    for with in no yes; do
      d=$WORK/a$atoms-np$np-lj-$with
      rm -rf "$d"; mkdir -p "$d"
      fixline=""
      [ "$with" = yes ] && fixline="fix diff all dprs/diffusion 10 file insitu msd max_lag 2.0 vacf max_lag 1.0 plot no"
      { system "$nx" "$ny" "$nz" "pair_style lj/cut 5.0
pair_coeff * * 0.4 2.3"; echo "$fixline"; echo "run 2000"; echo "run 500"; } > "$d/in.lmp"
      run "$d" "$np"
      mod+=("$(last "$d/log.lammps" modify)")
    done
    d=$WORK/a$atoms-np$np-dprs
    rm -rf "$d"; mkdir -p "$d"
    { system "$nx" "$ny" "$nz" "pair_style dprs $MODEL
pair_coeff * * Cu"; echo "run 2"; echo "run 10"; } > "$d/in.lmp"
    run "$d" "$np"
    step=$(last "$d/log.lammps" loop)
    python3 - "$atoms" "$np" "${mod[0]}" "${mod[1]}" "$step" <<'PY'
import sys
atoms, np_, m0, m1, step = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
fix = (m1 - m0) / 500 * 1e3
dprs = step / 10 * 1e3
print(f"| {atoms} | {np_} | {fix:.2f} | {dprs:.0f} | {100 * fix / dprs:.2f} % |")
PY
  done
done
echo "# end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"
