#!/usr/bin/env bash
# Many small files (a laboratory or scanned-document archive: hundreds of
# thousands of files of a few KiB): time and peak memory of the first
# backup, of a nightly backup (1 % new files, the rest unchanged) and of a
# restore, and the repository size, for hokan and for restic, rustic and
# borg when installed, in the same run. Every backup ends with a `sync`.
# Prints each tool's median over the rounds and hokan's ratios to each.
#
#   bench/small.sh [--files N] [--rounds R] [--work DIR] [--hokan PATH]
#                  [--peers restic,rustic,borg]
#
# The data set is `hokan-testdata messages` (N files, default 300000, seed
# 1; 1000 to a folder), and the night adds N/100 more (seed 2). Needs
# /usr/bin/time (apt-get install time).
set -euo pipefail

NAME=bench/small.sh HELP=14 MIB=0 ROUNDS=1 FILES=300000
WORK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/work/small"
extra_option() {
    case "$1" in
        --files) FILES=$2 ;;
        *) return 1 ;;
    esac
}
source "$(dirname "${BASH_SOURCE[0]}")/options.sh" "$@"
[ -x /usr/bin/time ] || { echo "$NAME: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
(cd "$ROOT" && cargo build --release -q -p hokan-testdata)
GEN="$ROOT/target/release/hokan-testdata"

rm -rf "$WORK"
mkdir -p "$WORK"
"$GEN" messages "$WORK/data" --files "$FILES" --seed 1
find "$WORK/data" -type f -exec cat {} + > /dev/null   # warm, for every tool alike
export HOKAN_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes


# restored FOLDER: the restore must hold every file of the data set.
restored() {
    local n
    n=$(find "$1" -type f -name '*.hl7' | wc -l)
    [ "$n" = "$((FILES + FILES / 100))" ] || { echo "$NAME: restore in $1 has $n files" >&2; exit 1; }
}

: > "$WORK/times"; : > "$WORK/sizes"
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/data/new"
    for tool in hokan restic rustic borg; do
        [ "$tool" = hokan ] || peer "$tool" || continue
        rm -rf "$WORK/data/new" "$WORK/repo-$tool" "$WORK/restore-$tool"
        # Each step as one command line, so that /usr/bin/time measures it.
        case $tool in
            hokan)
                "$HOKAN" --repo "$WORK/repo-hokan" init --insecure-fast-kdf > /dev/null
                BACKUP=("$HOKAN" --repo "$WORK/repo-hokan" --quiet backup --source small "$WORK/data")
                RESTORE=("$HOKAN" --repo "$WORK/repo-hokan" --quiet restore latest --target "$WORK/restore-hokan") ;;
            restic)
                restic -q -r "$WORK/repo-restic" init > /dev/null
                BACKUP=(restic -q -r "$WORK/repo-restic" backup "$WORK/data")
                RESTORE=(restic -q -r "$WORK/repo-restic" restore latest --target "$WORK/restore-restic") ;;
            rustic)
                rustic -r "$WORK/repo-rustic" --password bench init > /dev/null 2>&1
                BACKUP=(rustic -r "$WORK/repo-rustic" --password bench backup "$WORK/data")
                RESTORE=(rustic -r "$WORK/repo-rustic" --password bench restore latest "$WORK/restore-rustic") ;;
            borg)
                borg init -e repokey "$WORK/repo-borg" > /dev/null 2>&1
                BACKUP=(sh -c 'borg create "$0::r$(date +%s%N)" "$1"' "$WORK/repo-borg" "$WORK/data")
                mkdir -p "$WORK/restore-borg"
                RESTORE=(sh -c 'cd "$1" && borg extract "$0::$(borg list --short --last 1 "$0")"' "$WORK/repo-borg" "$WORK/restore-borg") ;;
        esac
        run "$tool" backup "${BACKUP[@]}"
        "$GEN" messages "$WORK/data/new" --files $((FILES / 100)) --seed 2 > /dev/null
        run "$tool" nightly "${BACKUP[@]}"
        run "$tool" restore "${RESTORE[@]}"
        restored "$WORK/restore-$tool"
        du -sk "$WORK/repo-$tool" | awk -v t="$tool" '{print t, "size", $1}' >> "$WORK/sizes"
        rm -rf "$WORK/restore-$tool" "$WORK/repo-$tool"
    done
done

python3 - "$WORK/times" "$WORK/sizes" "$FILES" <<'PY'
import statistics, sys
times, sizes, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = {}
for line in open(times):
    name, kind, secs, peak = line.split()
    rows.setdefault((name, kind), []).append((float(secs), int(peak)))
size = {}
for line in open(sizes):
    name, _, kib = line.split()
    size[name] = int(kib)
med = lambda k: statistics.median(s for s, _ in rows[k])
peak = lambda k: max(p for _, p in rows[k]) / 1024
kinds = ["backup", "nightly", "restore"]
print(f"Many small files: {files} HL7 messages, then {files // 100} more for the night; median of {len(rows[('hokan', 'backup')])} round(s), each backup with a final sync")
print(f"{'tool':8}" + "".join(f" {k + ' s':>10} {'peak MiB':>9}" for k in kinds) + f" {'repo MiB':>9}")
for name in ["hokan", "restic", "rustic", "borg"]:
    if (name, "backup") not in rows:
        continue
    cells = "".join(f" {med((name, k)):10.2f} {peak((name, k)):9.0f}" for k in kinds)
    print(f"{name:8}{cells} {size[name] / 1024:9.0f}")
for peer in ["restic", "rustic", "borg"]:
    if (peer, "backup") in rows:
        t = ", ".join(f"{k} {med((peer, k)) / med(('hokan', k)):.2f}× faster with {peak(('hokan', k)) / peak((peer, k)):.2f}× its peak memory" for k in kinds)
        print(f"hokan vs {peer}: {t}; repository {size['hokan'] / size[peer]:.2f}× the size")
PY
