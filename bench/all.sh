#!/usr/bin/env bash
# The three data sets, one after the other, with the same hokan binary and
# every peer installed (restic, rustic, borg): the mixed hospital set
# (bench/run.sh), many small files (bench/small.sh) and large incompressible
# files (bench/pacs.sh). Each prints its own table of times, peak memory,
# repository sizes and ratios; this prints them together at the end.
#
#   bench/all.sh [--scale S] [--files N] [--pacs-mib M] [--rounds R] [--hokan PATH]
#
# Defaults: the mixed set at 1 GiB with 3 nights, 300,000 small files, a
# 2 GiB PACS-like set; 1 round each for the small set, 3 for the PACS set.
# Peers: apt-get install -y restic borgbackup; cargo install --locked rustic-rs
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")
SCALE=1 FILES=300000 PACS_MIB=2048 ROUNDS=3 HOKAN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --files) FILES=$2; shift 2 ;;
        --pacs-mib) PACS_MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --hokan) HOKAN=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "bench/all.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$HOKAN" ]; then
    (cd "$ROOT" && cargo build --release -q -p hokan)
    HOKAN="$ROOT/target/release/hokan"
fi
for peer in restic rustic borg; do
    command -v "$peer" > /dev/null || echo "bench/all.sh: $peer is NOT installed: no $peer column" >&2
done
OUT="$BENCH_DIR/work/all"
mkdir -p "$OUT"
"$BENCH_DIR/run.sh" --scale "$SCALE" --hokan "$HOKAN" | tee "$OUT/mixed.txt"
"$BENCH_DIR/small.sh" --files "$FILES" --hokan "$HOKAN" | tee "$OUT/small.txt"
"$BENCH_DIR/pacs.sh" --mib "$PACS_MIB" --rounds "$ROUNDS" --hokan "$HOKAN" | tee "$OUT/pacs.txt"
echo
echo "== all three sets (hokan $("$HOKAN" --version | head -1), $(date -u +%FT%TZ))"
for f in mixed small pacs; do echo; cat "$OUT/$f.txt" | tail -n 25; done
