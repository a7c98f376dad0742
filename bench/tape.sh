#!/usr/bin/env bash
# Tape write throughput: `hokan tape backup` to the SIMULATED library against
# a plain sequential copy of the same bytes (`cat`, and `cat | dd bs=256k`)
# in the same run, on the same disk. Prints each round's ratio, their
# median, and the best of each side; the goal is at least 0.90.
#
#   bench/tape.sh [--mib N] [--rounds R] [--work DIR] [--hokan PATH]
#
# Both sides read the repository's pack files (warm in the page cache after
# the backup) and write one file without fsync: the simulated drive does not
# fsync its cartridge image (it models a killed process, not a power cut),
# so the copies do not either, and `sync` runs before each timed part.
# hokan's figure is its `write_mib_per_s`: the time from the first object to
# the set's catalog, which includes reading the objects (on a reader thread),
# BLAKE3 of every object, tar framing and the per-cartridge bookkeeping. The
# whole command's wall clock is printed beside it.
set -euo pipefail

NAME=bench/tape.sh HELP=16 MIB=1024 ROUNDS=3
WORK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/work/tape"
source "$(dirname "${BASH_SOURCE[0]}")/options.sh" "$@"

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
# Every round overwrites the same cartridge, and the copies overwrite their
# files of the round before: every side pays for erasing the old data and
# writes into page-cache pages it freed (on a VM, fresh pages cost far more
# than reused ones, so a side writing fresh ones would lose for that alone).
H tape sim insert --pool bench T00001L9 --capacity 64GiB >/dev/null
H tape label --pool bench T00001L9 >/dev/null
bytes=$(du -sb repo | cut -f1)

# The baseline is the faster of two plain copies of the repository's files
# into one file: `cat` (coreutils may copy in the kernel, copy_file_range)
# and `cat | dd bs=256k` (the tape block size). hokan is timed twice: its
# own write figure (first object to the set's catalog) and the wall clock of
# the whole command (opening the repository and catalog, loading and
# unloading the cartridge, reading its label).
mapfile -d '' files < <(find repo -type f -print0 | sort -z)
mib=$(python3 -c "print($bytes / 1048576)")
best_h=0
best_w=0
best_d=0
ratios=""
for r in $(seq 1 "$ROUNDS"); do
    sleep 1   # let the 1 s retention of the previous round pass
    sync   # each timed part starts with no dirty pages to write back
    start=$(date +%s.%N)
    h=$(H --json tape backup --pool bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["write_mib_per_s"])')
    end=$(date +%s.%N)
    w=$(python3 -c "print($mib / ($end - $start))")
    sync
    start=$(date +%s.%N)
    cat "${files[@]}" > copy.cat
    end=$(date +%s.%N)
    c=$(python3 -c "print($mib / ($end - $start))")
    sync
    start=$(date +%s.%N)
    cat "${files[@]}" | dd of=copy.dd bs=256k iflag=fullblock status=none
    end=$(date +%s.%N)
    d=$(python3 -c "print(max($c, $mib / ($end - $start)))")
    printf 'round %d: hokan tape %.0f MiB/s (whole command %.0f), plain copy %.0f MiB/s, ratio %.2f (whole command %.2f)\n' \
        "$r" "$h" "$w" "$d" "$(python3 -c "print($h/$d)")" "$(python3 -c "print($w/$d)")"
    ratios="$ratios $(python3 -c "print($h/$d)")"
    best_h=$(python3 -c "print(max($best_h, $h))")
    best_w=$(python3 -c "print(max($best_w, $w))")
    best_d=$(python3 -c "print(max($best_d, $d))")
done
rm -f copy.cat copy.dd
printf 'median ratio of the rounds: %.2f\n' "$(python3 -c "import statistics; print(statistics.median([$(echo $ratios | tr ' ' ',')]))")"
printf 'best of %d (%.0f MiB): hokan tape %.0f MiB/s (whole command %.0f), plain copy %.0f MiB/s, ratio %.2f (whole command %.2f; goal >= 0.90)\n' \
    "$ROUNDS" "$mib" "$best_h" "$best_w" "$best_d" "$(python3 -c "print($best_h/$best_d)")" "$(python3 -c "print($best_w/$best_d)")"
