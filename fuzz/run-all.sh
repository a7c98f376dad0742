#!/usr/bin/env bash
# Run every fuzz target for a short time; exit non-zero if any finds a crash.
#
#   fuzz/run-all.sh [SECONDS_PER_TARGET]   (default 10)
#
# Only stable Rust is installed here: RUSTC_BOOTSTRAP=1 lets it accept the
# nightly-only flags cargo fuzz passes. Sanitizer: none (AddressSanitizer
# needs a nightly std); libFuzzer's coverage guidance and Rust's own bounds
# and overflow checks (debug assertions are on) still catch panics, which is
# what these targets look for. Seeds (fuzz/seeds) are copied into the
# git-ignored fuzz/corpus so they stay clean; crashes land in fuzz/artifacts.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-10}
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz (once) ..."
  cargo install cargo-fuzz --locked --quiet
fi
targets=$(cargo fuzz list)
cargo fuzz build --sanitizer none --debug-assertions >/dev/null
status=0
for t in $targets; do
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && cp -n "seeds/$t"/* "corpus/$t/" 2>/dev/null || true
  log=$(mktemp)
  if cargo fuzz run --sanitizer none --debug-assertions "$t" "corpus/$t" -- \
      -max_total_time="$SECS" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    printf 'fuzz %-16s ok   %s runs in %ss\n' "$t" "$runs" "$SECS"
  else
    printf 'fuzz %-16s CRASH (see fuzz/artifacts/%s)\n' "$t" "$t"
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 || true
    status=1
  fi
  rm -f "$log"
done
exit $status
