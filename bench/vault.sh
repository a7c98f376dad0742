#!/usr/bin/env bash
# Vault pull throughput: `hokan vault pull` of a repository from `hokan serve`
# over loopback TLS, against `cp -r` of the same repository folder + `sync`
# in the same run, on the same disk. Both are durable (the vault fsyncs every
# object before it links it and sets the immutable flag). Prints each
# round's ratio (pull time / copy time), their median, and the pull's peak
# memory (maximum resident set, from /usr/bin/time).
#
#   bench/vault.sh [--mib N] [--rounds R] [--work DIR] [--hokan PATH]
#
# The data set is PACS-like: N MiB of incompressible files of 16 MiB. Each
# round pulls into a new, empty vault folder; the repository stays warm in
# the page cache for both sides. Needs root (the immutable flag) and
# /usr/bin/time (apt-get install time).
set -euo pipefail

NAME=bench/vault.sh HELP=14 MIB=1024 ROUNDS=3
WORK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/work/vault"
source "$(dirname "${BASH_SOURCE[0]}")/options.sh" "$@"
[ -x /usr/bin/time ] || { echo "bench/vault.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

release() { [ -d "$1" ] && chattr -R -i "$1" 2>/dev/null || true; rm -rf "$1"; }
SERVE_PID=""
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
    for d in "$WORK"/vault-*; do release "$d"; done
}
trap cleanup EXIT

for d in "$WORK"/vault-*; do release "$d"; done
rm -rf "$WORK"
mkdir -p "$WORK/data"
echo "data: $MIB MiB of incompressible files in $WORK/data"
n=$(( (MIB + 15) / 16 ))
for i in $(seq 1 "$n"); do
    head -c $((16 << 20)) /dev/urandom > "$WORK/data/image$i.dcm"
done
printf 'bench-passphrase\n' > "$WORK/pw.txt"
chmod 600 "$WORK/pw.txt"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$WORK/hokan.toml" <<EOF
[site]
name = "bench"
catalog = "catalog.db"

[repository]
path = "repo"
passphrase_file = "pw.txt"

[[source]]
name = "pacs"
paths = ["$WORK/data"]

[serve]
listen = "127.0.0.1:$PORT"
EOF
H=("$HOKAN" --config "$WORK/hokan.toml" --quiet)
"${H[@]}" init --insecure-fast-kdf >/dev/null
"${H[@]}" backup --source pacs "$WORK/data" >/dev/null
"${H[@]}" serve --init --name 127.0.0.1 >/dev/null

declare -a ratios=()
for r in $(seq 1 "$ROUNDS"); do
    V="$WORK/vault-$r"
    out=$("$HOKAN" --json vault --dir "$V" init --name "bench$r" --primary "https://127.0.0.1:$PORT" \
        --primary-cert "$WORK/serve-cert.pem")
    python3 - "$out" "$WORK/hokan.toml" <<'EOF'
import json, sys
v = json.loads(sys.argv[1])
open(sys.argv[2], "a").write("\n" + v["hokan_toml"])
EOF
done
"$HOKAN" --config "$WORK/hokan.toml" serve > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do
    grep -q https:// "$WORK/serve.log" 2>/dev/null && break
    sleep 0.2
done
grep -q https:// "$WORK/serve.log" || { cat "$WORK/serve.log"; exit 1; }

REPO_MIB=$(du -sm "$WORK/repo" | cut -f1)
printf '\n%-6s %10s %10s %8s %10s\n' round "pull s" "cp+sync s" ratio "peak MiB"
for r in $(seq 1 "$ROUNDS"); do
    V="$WORK/vault-$r"
    sync
    /usr/bin/time -f '%e %M' -o "$WORK/time.$r" "$HOKAN" --quiet vault --dir "$V" pull >/dev/null || {
        echo "the pull failed (exit $?)" >&2; exit 1; }
    read -r pull_s peak_kb < "$WORK/time.$r"
    rm -rf "$WORK/copy"
    sync
    t0=$(date +%s.%N)
    cp -r "$WORK/repo" "$WORK/copy"
    sync
    t1=$(date +%s.%N)
    cp_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
    ratio=$(python3 -c "print(f'{$pull_s / $cp_s:.2f}')")
    ratios+=("$ratio")
    printf '%-6s %10s %10s %8s %10s\n' "$r" "$pull_s" "$cp_s" "$ratio" "$((peak_kb / 1024))"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo
echo "repository: $REPO_MIB MiB; pull time / (cp -r + sync) time, median of $ROUNDS: $median (1.00 = as fast as a plain durable copy)"
