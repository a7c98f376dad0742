#!/usr/bin/env bash
# Tape write throughput: `hokan tape backup` to the SIMULATED library against a
# plain sequential copy of the same bytes (`dd bs=256k`) in the same run, on the
# same disk. Prints the ratio; the goal is at least 0.90.
#
#   bench/tape.sh [--mib N] [--rounds R] [--work DIR] [--hokan PATH]
#
# Both sides read the repository's pack files (warm in the page cache after
# the backup) and write one file without fsync: the simulated drive writes
# its cartridge image through a 1 MiB buffer and does not fsync (it models a
# killed process, not a power cut), so dd does not either. hokan's figure is
# its `write_mib_per_s`: the time from the first object to the set's
# catalog, which includes reading the objects, tar framing, blake3 of every
# object and the per-cartridge bookkeeping.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")
MIB=1024
ROUNDS=3
WORK="$BENCH_DIR/work/tape"
HOKAN=""

while [ $# -gt 0 ]; do
    case "$1" in
        --mib) MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --hokan) HOKAN=$2; shift 2 ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) echo "bench/tape.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

if [ -z "$HOKAN" ]; then
    # Build (or bring up to date) the release binary of this checkout.
    (cd "$ROOT" && cargo build --release -p hokan)
    HOKAN="$ROOT/target/release/hokan"
fi

rm -rf "$WORK"
mkdir -p "$WORK/data"
cd "$WORK"
echo "== data: $MIB MiB of incompressible files"
for i in $(seq 1 $((MIB / 64))); do
    head -c 64M /dev/urandom > "data/scan-$i.dcm"
done
echo "bench-passphrase" > pw.txt
cat > hokan.toml <<EOF
[site]
name = "bench"
catalog = "catalog.db"
[repository]
path = "repo"
passphrase_file = "pw.txt"
[[source]]
name = "emr"
paths = ["$WORK/data"]
[[tape_pool]]
name = "bench"
mode = "library"
after_job = "unload"
allocation = "weekday"
retention = "1s"
virtual_library = "vtl"
EOF
H() { "$HOKAN" --config hokan.toml "$@"; }
H init --insecure-fast-kdf >/dev/null
H backup >/dev/null
H tape sim create --pool bench --slots 4 >/dev/null
H tape sim insert --pool bench T00001L9 --capacity 64GiB >/dev/null
H tape label --pool bench T00001L9 >/dev/null
bytes=$(du -sb repo | cut -f1)

best_h=0
best_d=0
for r in $(seq 1 "$ROUNDS"); do
    sleep 1   # let the 1 s retention of the previous round pass
    h=$(H --json tape backup --pool bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_mib_per_s"])')
    rm -f dd.out
    start=$(date +%s.%N)
    find repo -type f -print0 | sort -z | xargs -0 cat | dd of=dd.out bs=256k iflag=fullblock status=none
    end=$(date +%s.%N)
    d=$(python3 -c "print($bytes / 1048576 / ($end - $start))")
    printf 'round %d: hokan tape %.0f MiB/s, dd %.0f MiB/s, ratio %.2f\n' "$r" "$h" "$d" "$(python3 -c "print($h/$d)")"
    best_h=$(python3 -c "print(max($best_h, $h))")
    best_d=$(python3 -c "print(max($best_d, $d))")
done
rm -f dd.out
printf 'best of %d: hokan tape %.0f MiB/s, dd %.0f MiB/s, ratio %.2f (goal >= 0.90)\n' \
    "$ROUNDS" "$best_h" "$best_d" "$(python3 -c "print($best_h/$best_d)")"
