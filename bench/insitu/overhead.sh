#!/usr/bin/env bash
# Cost of fix dprs/diffusion inside a pair_style dprs run: the same input
# with and without the fix, interleaved, at 8000 atoms (fcc Cu 20x10x10) and
# 21 296 atoms (22x22x11, the size of the Pb10(PO4)6O channel system), 1 and
# 2 MPI ranks. The fix samples every 10 steps with a 2 ps MSD window and a
# 1 ps VACF window (timestep 1 fs: 200 and 100 samples). Reports LAMMPS's
# Loop time per step and its "Modify" time per step (the fixes' share of the
# step: nvt, plus dprs/diffusion when present); the difference of the Modify
# times is the fix's cost, free of the run-to-run noise of the whole step.
#
#   bench/insitu/overhead.sh [MODEL.onnx] [STEPS] [REPEATS]
#
# Default model: models/cu-eam-standin.onnx (the shipped model; a small net,
# so a short dprs step: the overhead is relatively larger than with a
# production model).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MODEL=$(realpath "${1:-models/cu-eam-standin.onnx}")
STEPS=${2:-200}
REPEATS=${3:-2}
WORK=${WORK:-$ROOT/build/bench-insitu}
mkdir -p "$WORK"
LMP=$ROOT/.venv/bin/lmp
MPIRUN=$ROOT/.venv/bin/mpirun
PLUGIN=$ROOT/build/lib/libdprs.so
[ -f "$PLUGIN" ] || make plugin
echo "# $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg) model $(basename "$MODEL")"
printf '| atoms | ranks | fix | Loop s/step | Modify s/step | runs |\n|---|---|---|---|---|---|\n'
for cells in "20 10 10" "22 22 11"; do
  read -r nx ny nz <<<"$cells"
  atoms=$((4 * nx * ny * nz))
  for np in 1 2; do
    declare -A loop=() modify=()
    for rep in $(seq "$REPEATS"); do
      for with in no yes; do
        d=$WORK/a$atoms-np$np-$with-$rep
        rm -rf "$d"; mkdir -p "$d"
        fixline=""
        [ "$with" = yes ] && fixline="fix diff all dprs/diffusion 10 file insitu msd max_lag 2.0 vacf max_lag 1.0 plot no"
        cat > "$d/in.lmp" <<IN
plugin load $PLUGIN
units metal
atom_style atomic
boundary p p p
lattice fcc 3.615
region box block 0 $nx 0 $ny 0 $nz
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style dprs $MODEL
pair_coeff * * Cu
neighbor 1.0 bin
velocity all create 1500 87287 loop geom
fix 1 all nvt temp 1500 1500 0.1
timestep 0.001
thermo 100
run 10
$fixline
run $STEPS
IN
        (cd "$d" && if [ "$np" = 1 ]; then "$LMP" -nocite -log log.lammps -in in.lmp; \
          else "$MPIRUN" -np "$np" "$LMP" -nocite -log log.lammps -in in.lmp; fi) > "$d/out.txt" 2>&1
        l=$(grep "^Loop time" "$d/log.lammps" | tail -1 | awk '{print $4}')
        m=$(grep "^Modify" "$d/log.lammps" | tail -1 | awk -F'|' '{print $3}' | tr -d ' ')
        loop[$with]+="$(python3 -c "print(f'{$l/$STEPS:.4f}')") "
        modify[$with]+="$(python3 -c "print(f'{$m/$STEPS:.5f}')") "
      done
    done
    for with in no yes; do
      echo "| $atoms | $np | $with | ${loop[$with]}| ${modify[$with]}| $REPEATS |"
    done
  done
done
echo "# end $(date -u '+%F %T') load $(cut -d' ' -f1-3 /proc/loadavg)"
