#!/usr/bin/env bash
# Large incompressible files (a PACS archive: images already JPEG 2000 or
# JPEG-LS compressed): backup and restore time, peak memory and repository
# size of hokan, and of restic, rustic and borg when installed, in the same
# run, against `cp -r` + `sync` of the same files to the same disk. Every
# backup is timed with a final `sync`, so all are durable. Prints each
# tool's median over the rounds and its ratio to cp + sync.
#
#   bench/pacs.sh [--files N] [--mib M] [--rounds R] [--work DIR] [--hokan PATH]
#                 [--peers restic,rustic,borg]
#
# The data set is `hokan-testdata pacs` (N files, default 40, of M MiB in
# all, default 2048; seed 1). Caches are warm for every tool alike. Needs
# /usr/bin/time (apt-get install time).
set -euo pipefail

NAME=bench/pacs.sh HELP=14 MIB=2048 ROUNDS=3 FILES=40
WORK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/work/pacs"
extra_option() {
    case "$1" in
        --files) FILES=$2 ;;
        *) return 1 ;;
    esac
}
source "$(dirname "${BASH_SOURCE[0]}")/options.sh" "$@"
[ -x /usr/bin/time ] || { echo "bench/pacs.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
(cd "$ROOT" && cargo build --release -q -p hokan-testdata)
GEN="$ROOT/target/release/hokan-testdata"

rm -rf "$WORK"
mkdir -p "$WORK"
"$GEN" pacs "$WORK/data" --files "$FILES" --mib "$MIB" --seed 1
cat "$WORK"/data/*/* > /dev/null   # warm, for every tool alike
export HOKAN_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes


: > "$WORK/times"; : > "$WORK/sizes"
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$WORK/copy" "$WORK/back"
    run cp backup cp -r "$WORK/data" "$WORK/copy"
    run cp restore cp -r "$WORK/copy" "$WORK/back"
    rm -rf "$WORK/copy" "$WORK/back" "$WORK/repo-hokan" "$WORK/restore-hokan"
    "$HOKAN" --repo "$WORK/repo-hokan" init --insecure-fast-kdf > /dev/null
    run hokan backup "$HOKAN" --repo "$WORK/repo-hokan" --quiet backup --source pacs "$WORK/data"
    run hokan restore "$HOKAN" --repo "$WORK/repo-hokan" --quiet restore latest --target "$WORK/restore-hokan"
    cmp -s "$WORK/data/study-0000/IMG00000.dcm" "$WORK/restore-hokan/data/study-0000/IMG00000.dcm" \
        || { echo "bench/pacs.sh: hokan's restore differs" >&2; exit 1; }
    du -sk "$WORK/repo-hokan" | awk '{print "hokan size", $1}' >> "$WORK/sizes"
    rm -rf "$WORK/restore-hokan"
    if peer restic; then
        rm -rf "$WORK/repo-restic" "$WORK/restore-restic"
        restic -q -r "$WORK/repo-restic" init > /dev/null
        run restic backup restic -q -r "$WORK/repo-restic" backup "$WORK/data"
        run restic restore restic -q -r "$WORK/repo-restic" restore latest --target "$WORK/restore-restic"
        du -sk "$WORK/repo-restic" | awk '{print "restic size", $1}' >> "$WORK/sizes"
        rm -rf "$WORK/restore-restic"
    fi
    if peer rustic; then
        rm -rf "$WORK/repo-rustic" "$WORK/restore-rustic"
        rustic -r "$WORK/repo-rustic" --password bench init > /dev/null 2>&1
        run rustic backup rustic -r "$WORK/repo-rustic" --password bench backup "$WORK/data"
        run rustic restore rustic -r "$WORK/repo-rustic" --password bench restore latest "$WORK/restore-rustic"
        du -sk "$WORK/repo-rustic" | awk '{print "rustic size", $1}' >> "$WORK/sizes"
        rm -rf "$WORK/restore-rustic"
    fi
    if peer borg; then
        rm -rf "$WORK/repo-borg" "$WORK/restore-borg"
        borg init -e repokey "$WORK/repo-borg" > /dev/null 2>&1
        run borg backup borg create "$WORK/repo-borg::r$r" "$WORK/data"
        mkdir -p "$WORK/restore-borg"
        run borg restore sh -c "cd '$WORK/restore-borg' && borg extract '$WORK/repo-borg::r$r'"
        du -sk "$WORK/repo-borg" | awk '{print "borg size", $1}' >> "$WORK/sizes"
        rm -rf "$WORK/restore-borg"
    fi
done

python3 - "$WORK/times" "$WORK/sizes" "$MIB" "$FILES" <<'PY'
import statistics, sys
times, sizes, mib, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = {}
for line in open(times):
    name, kind, secs, peak = line.split()
    rows.setdefault((name, kind), []).append((float(secs), int(peak)))
size = {}
for line in open(sizes):
    name, _, kib = line.split()
    size[name] = int(kib)
med = lambda k: statistics.median(s for s, _ in rows[k])
print(f"PACS-like set: {files} files, {mib} MiB, incompressible; median of {len(rows[('cp', 'backup')])} rounds, each with a final sync")
print(f"{'tool':8} {'backup s':>9} {'× cp+sync':>9} {'peak MiB':>9} {'restore s':>9} {'× cp+sync':>9} {'repo MiB':>9}")
for name in ["cp", "hokan", "restic", "rustic", "borg"]:
    if (name, "backup") not in rows:
        continue
    b, r = med((name, "backup")), med((name, "restore"))
    peak = max(p for _, p in rows[(name, "backup")]) / 1024
    repo = f"{size[name] / 1024:9.0f}" if name in size else f"{'-':>9}"
    print(f"{name:8} {b:9.2f} {b / med(('cp', 'backup')):9.2f} {peak:9.0f} {r:9.2f} {r / med(('cp', 'restore')):9.2f} {repo}")
hb = med(("hokan", "backup"))
for peer in ["restic", "rustic", "borg"]:
    if (peer, "backup") in rows:
        print(f"hokan vs {peer}: backup {med((peer, 'backup')) / hb:.2f}× faster, restore {med((peer, 'restore')) / med(('hokan', 'restore')):.2f}× faster")
PY
