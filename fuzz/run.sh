#!/usr/bin/env bash
# Runs the fuzz targets one after another for SECONDS each (default 20):
#   fuzz/run.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`RUSTC_BOOTSTRAP=1 cargo install cargo-fuzz`); on a
# stable toolchain RUSTC_BOOTSTRAP=1 unlocks the nightly flags it uses.
# Corpora grow in $FUZZ_CORPUS (default target/fuzz-corpus), starting from
# fuzz/seeds; crashes land in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dump_reader keywords contract)
export RUSTC_BOOTSTRAP=1
corpus_root=${FUZZ_CORPUS:-$(cd .. && pwd)/target/fuzz-corpus}
cargo fuzz build -O -s none >/dev/null
for t in "${targets[@]}"; do
  mkdir -p "$corpus_root/$t"
  cp -n seeds/"$t"/* "$corpus_root/$t"/ 2>/dev/null || true
  # malloc_limit: no single allocation may exceed 256 MB, so a huge declared
  # count that is not backed by data is caught; rss_limit bounds the total.
  cargo fuzz run -O -s none "$t" "$corpus_root/$t" -- \
    -max_total_time="$secs" -malloc_limit_mb=256 -rss_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE|==[0-9]+== ERROR|SUMMARY|Done)|panicked|crash-|oom-|timeout-" || true
  if ls artifacts/"$t"/ 2>/dev/null | grep -qE '^(crash|oom|timeout|leak)-'; then
    echo "fuzz $t: findings in fuzz/artifacts/$t" >&2
    exit 1
  fi
  echo "fuzz $t: ${secs}s, no crash"
done
