#!/usr/bin/env bash
# Times `postproc flux` and `postproc chains` on the ~1.1 GB benchmark dump
# (8000 atoms x 2000 frames, made by examples/gen_dump like run.sh does).
# Not a test. Usage: bench/postproc/chain_melting.sh [WORKDIR] [REPEATS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-${TMPDIR:-/tmp}/postproc-bench}
repeats=${2:-3}
mkdir -p "$work"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --release -p postproc --bins --examples)
bin=$CARGO_TARGET_DIR/release/postproc
dump=$work/dump.lammpstrj
[ -f "$dump" ] || "$CARGO_TARGET_DIR/release/examples/gen_dump" "$dump" 20 2000
cat "$dump" > /dev/null  # warm the page cache: we time parsing, not the disk
measure() {  # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" > "$work/$label.out" 2> "$work/$label.time"
  awk -v l="$label" -F': ' '/Elapsed/ {w=$2} /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
    END {printf "%-16s wall %8s  cpu %7.2f s  peak RSS %7.0f MB\n", l, w, u+s, r/1024}' "$work/$label.time"
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
for k in $(seq "$repeats"); do
  measure "flux-$k" "$bin" flux "$dump" --dt 0.01 --json --out "$work/flux"
  measure "chains-$k" "$bin" chains "$dump" --dt 0.01 --json --out "$work/chains"
done
python3 -c "import json,sys; v=json.load(open('$work/flux-1.out')); print('flux: lines with crossings', len(v['lines']))"
python3 -c "import json,sys; v=json.load(open('$work/chains-1.out')); print('chains: hops', v['n_hops'], 'chains', v['n_chains'], 'mobile', len(v['mobile_ids']))"
