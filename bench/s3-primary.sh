#!/usr/bin/env bash
# The primary repository on an S3-compatible store: hokan's backup and
# restore of the PACS-like set (large incompressible files) with the
# repository in a bucket, time, throughput and peak memory; the restore is
# compared with the data byte for byte.
#
#   bench/s3-primary.sh [--mib M] [--rounds R] [--work DIR] [--hokan PATH]
#                       [--endpoint URL]
#
# Without --endpoint it starts its own single-node Ceph RGW cluster
# (scripts/ceph-rgw.sh, port 7495, in WORK/rgw) and stops it at exit. With
# --endpoint, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY name a key that
# may create buckets there. Each round backs up into a new bucket. The data
# set is `hokan-testdata pacs` (40 files, M MiB in all, default 2048).
# `--repo s3://…` puts 8 requests in flight (a site's `concurrency`).
# Needs /usr/bin/time and curl.
set -euo pipefail

NAME=bench/s3-primary.sh HELP=16 MIB=2048 ROUNDS=2 ENDPOINT=""
WORK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/work/s3-primary"
extra_option() {
    case "$1" in
        --endpoint) ENDPOINT=$2 ;;
        *) return 1 ;;
    esac
}
source "$(dirname "${BASH_SOURCE[0]}")/options.sh" "$@"
[ -x /usr/bin/time ] || { echo "$NAME: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
(cd "$ROOT" && cargo build --release -q -p hokan-testdata)
GEN="$ROOT/target/release/hokan-testdata"

rm -rf "$WORK/data" "$WORK/back" "$WORK/times"
mkdir -p "$WORK"
if [ -z "$ENDPOINT" ]; then
    "$ROOT/scripts/ceph-rgw.sh" start "$WORK/rgw" 7495 > /dev/null
    trap '"$ROOT/scripts/ceph-rgw.sh" stop "$WORK/rgw" > /dev/null' EXIT
    eval "$("$ROOT/scripts/ceph-rgw.sh" env "$WORK/rgw")"
    ENDPOINT=$HOKAN_TEST_RGW_ENDPOINT
    export AWS_ACCESS_KEY_ID=$HOKAN_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$HOKAN_TEST_RGW_SECRET
fi
export HOKAN_S3_ENDPOINT=$ENDPOINT HOKAN_PASSWORD=bench
"$GEN" pacs "$WORK/data" --files 40 --mib "$MIB" --seed 1
cat "$WORK"/data/*/* > /dev/null   # warm

# make_bucket NAME: an empty bucket, without versioning or lock.
make_bucket() {
    local code
    code=$(curl -s -o "$WORK/curl.out" -w "%{http_code}" --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
        -X PUT "$ENDPOINT/$1")
    [ "$code" = 200 ] || { echo "$NAME: cannot create bucket $1 at $ENDPOINT (HTTP $code):" >&2; cat "$WORK/curl.out" >&2; exit 1; }
}

: > "$WORK/times"
for r in $(seq 1 "$ROUNDS"); do
    bucket="hokan-bench-$(date +%s)-$r"
    make_bucket "$bucket"
    repo="s3://$bucket/pacs"
    "$HOKAN" --repo "$repo" init --insecure-fast-kdf > /dev/null
    run hokan backup "$HOKAN" --repo "$repo" --quiet backup --source pacs "$WORK/data"
    rm -rf "$WORK/back"
    run hokan restore "$HOKAN" --repo "$repo" --quiet restore latest --target "$WORK/back"
    diff -r "$WORK/data" "$WORK/back/data" > /dev/null \
        || { echo "$NAME: the restore differs from the data" >&2; exit 1; }
done

python3 - "$WORK/times" "$MIB" "$ENDPOINT" <<'PY'
import statistics, sys
path, mib, endpoint = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    tool, kind, secs, peak = line.split()
    rows.setdefault(kind, []).append((float(secs), int(peak)))
print(f"Primary in a bucket at {endpoint}: {mib:.0f} MiB in 40 files")
print(f"{'step':<8} {'median s':>9} {'MiB/s':>7} {'peak MiB':>9}  runs (s)")
for kind in ("backup", "restore"):
    runs = rows.get(kind, [])
    if not runs:
        continue
    t = statistics.median(s for s, _ in runs)
    peak = max(p for _, p in runs) / 1024
    print(f"{kind:<8} {t:9.1f} {mib / t:7.0f} {peak:9.0f}  " + " ".join(f"{s:.1f}" for s, _ in runs))
PY
