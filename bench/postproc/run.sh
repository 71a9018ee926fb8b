#!/usr/bin/env bash
# Benchmark of `postproc diffusion` (MSD + per-axis D + VACF/VDOS) against
# pandas+numpy and MDAnalysis on a ~1.1 GB dump (8000 atoms x 2000 frames,
# velocities and image flags). Not a test. Usage: bench/postproc/run.sh [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-${TMPDIR:-/tmp}/postproc-bench}
mkdir -p "$work"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --release -p postproc --bins --examples)
bin=$CARGO_TARGET_DIR/release/postproc
venv=$root/.venv-bench
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy pandas MDAnalysis tidynamics
fi
dump=$work/dump.lammpstrj
[ -f "$dump" ] || "$CARGO_TARGET_DIR/release/examples/gen_dump" "$dump" 20 2000
[ -f "$dump.zst" ] || zstd -q -3 -T2 -k "$dump" -o "$dump.zst" 2>/dev/null || "$venv/bin/python" -c "print('no zstd cli')"
[ -f "$dump.gz" ] || gzip -1 -k -c "$dump" > "$dump.gz"
# MDAnalysis re-reads at ~10 MB/s: time it on the first 200 frames.
sub=$work/dump200.lammpstrj
[ -f "$sub" ] || head -n $((200 * 8009)) "$dump" > "$sub"
cat "$dump" > /dev/null  # warm the page cache: we time parsing, not the disk
repeat=${REPEAT:-1}  # REPEAT=3 bench/postproc/run.sh: each postproc timing 3 times
measure() {  # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" > "$work/$label.out" 2> "$work/$label.time"
  awk -v l="$label" -v la="$(cut -d' ' -f1 /proc/loadavg)" -F': ' \
    '/Elapsed/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
    END {printf "%-22s wall %8s  cpu %7.2f s  peak RSS %7.0f MB  load %s\n", l, w, u+s, r/1024, la}' "$work/$label.time"
}
measure_n() {  # like measure, $repeat times
  for _ in $(seq "$repeat"); do measure "$@"; done
}
echo "machine: $(nproc) cores, $(date -u +%F)"
measure_n postproc "$bin" diffusion "$dump" --dt 0.01 --json --no-plot --out "$work/out"
[ -f "$dump.zst" ] && measure_n postproc-zst "$bin" diffusion "$dump.zst" --dt 0.01 --json --no-plot --out "$work/out"
measure_n postproc-gz "$bin" diffusion "$dump.gz" --dt 0.01 --json --no-plot --out "$work/out"
measure pandas-numpy "$venv/bin/python" "$root/bench/postproc/pandas_numpy.py" "$dump" 0.01
measure mdanalysis-200fr "$venv/bin/python" "$root/bench/postproc/mdanalysis_msd.py" "$sub" 0.01
grep -h -o '"value": [0-9.e-]*' "$work/postproc.out" | head -4
cat "$work/pandas-numpy.out" "$work/mdanalysis-200fr.out"
