#!/usr/bin/env bash
# Benchmark hokan against restic, rustic and borg on the same synthetic hospital data set.
#
#   bench/run.sh [--scale S] [--nights N] [--work DIR] [--tools hokan,restic,rustic,borg] [--hokan PATH]
#
# See bench/README.md for what is measured and how to read the table.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")
ALL_TOOLS=(hokan restic rustic borg)        # canonical order: every night runs them in this order
INSTALL_HINT="apt-get install -y restic borgbackup; cargo install --locked rustic-rs"

SCALE=1
NIGHTS=3
WORK="$BENCH_DIR/work"
TOOLS_ARG=""
HOKAN_ARG=""
SEED=1

usage() {
    cat <<EOF
usage: bench/run.sh [options]

  --scale S      data set size in GiB (default 1)
  --nights N     nightly incremental backups after the first one (default 3)
  --work DIR     scratch folder: data set, repositories, restores, logs, results.json
                 (default bench/work, git-ignored). Only the entries this script
                 creates there are removed at the start of a run.
  --tools LIST   comma-separated subset of hokan,restic,rustic,borg
                 (default: every one that is installed)
  --hokan PATH   hokan binary (default target/release/hokan, built with
                 'cargo build --release -p hokan' if missing)

The data set comes from the workspace crate crates/testdata
(cargo run --release -p hokan-testdata -- create|night ...).
EOF
}

die() { printf '\nbench: error: %s\n' "$*" >&2; exit 2; }
say() { printf '%s\n' "$*"; }
loud() {
    printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' >&2
    local line
    for line in "$@"; do printf '!!! %s\n' "$line" >&2; done
    printf '%s\n\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' >&2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=${2:?--scale needs a value}; shift 2 ;;
        --scale=*) SCALE=${1#*=}; shift ;;
        --nights) NIGHTS=${2:?--nights needs a value}; shift 2 ;;
        --nights=*) NIGHTS=${1#*=}; shift ;;
        --work) WORK=${2:?--work needs a value}; shift 2 ;;
        --work=*) WORK=${1#*=}; shift ;;
        --tools) TOOLS_ARG=${2:?--tools needs a value}; shift 2 ;;
        --tools=*) TOOLS_ARG=${1#*=}; shift ;;
        --hokan) HOKAN_ARG=${2:?--hokan needs a value}; shift 2 ;;
        --hokan=*) HOKAN_ARG=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ "$NIGHTS" =~ ^[0-9]+$ ]] || die "--nights must be a whole number, got '$NIGHTS'"
python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if v > 0 else 1)' "$SCALE" 2>/dev/null \
    || die "--scale must be a positive number, got '$SCALE'"

# The data set generator is the workspace's own crate (crates/testdata).
testdata() { (cd "$ROOT" && cargo run --release --quiet -p hokan-testdata -- "$@"); }
say "building the data set generator (cargo build --release -p hokan-testdata) ..."
(cd "$ROOT" && cargo build --release --quiet -p hokan-testdata) \
    || die "could not build the data set generator (cargo build --release -p hokan-testdata failed, see above)"

# ---------------------------------------------------------------- which tools
have() { command -v "$1" >/dev/null 2>&1; }
TOOLS=()
if [ -n "$TOOLS_ARG" ]; then
    IFS=',' read -r -a wanted <<<"$TOOLS_ARG"
    for w in "${wanted[@]}"; do
        case "$w" in hokan|restic|rustic|borg) ;; *) die "unknown tool '$w' in --tools (choose from hokan,restic,rustic,borg)" ;; esac
    done
    for t in "${ALL_TOOLS[@]}"; do
        for w in "${wanted[@]}"; do [ "$w" = "$t" ] && TOOLS+=("$t") && break; done
    done
    for t in restic rustic borg; do
        if [[ " ${TOOLS[*]} " == *" $t "* ]] && ! have "$t"; then
            loud "$t was asked for with --tools but is not installed." \
                 "Install the peers with:  $INSTALL_HINT"
            exit 2
        fi
    done
else
    TOOLS+=(hokan)
    for t in restic rustic borg; do
        if have "$t"; then TOOLS+=("$t"); else
            loud "$t is NOT installed: it is left out of this run, so there is no $t column." \
                 "Install the peers with:  $INSTALL_HINT"
        fi
    done
fi
[ ${#TOOLS[@]} -gt 0 ] || die "no tools to run"
uses() { [[ " ${TOOLS[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------- hokan binary
HOKAN=""
if uses hokan; then
    if [ -n "$HOKAN_ARG" ]; then
        case "$HOKAN_ARG" in /*) HOKAN=$HOKAN_ARG ;; *) HOKAN=$PWD/$HOKAN_ARG ;; esac
        [ -x "$HOKAN" ] || die "hokan binary not found (or not executable) at $HOKAN (from --hokan).
  Build it with 'cargo build --release -p hokan', or benchmark only the peers with --tools restic,borg"
    else
        HOKAN=$ROOT/target/release/hokan
        if [ ! -x "$HOKAN" ]; then
            say "hokan binary not found at $HOKAN: building it (cargo build --release -p hokan) ..."
            if ! (cd "$ROOT" && cargo build --release -p hokan); then
                die "could not build hokan (cargo build --release -p hokan failed, see above), and there is
  no binary at $HOKAN. Pass --hokan PATH, or benchmark only the peers with --tools restic,borg"
            fi
            [ -x "$HOKAN" ] || die "cargo build succeeded but there is still no binary at $HOKAN;
  pass --hokan PATH, or benchmark only the peers with --tools restic,borg"
        fi
    fi
    "$HOKAN" --version >/dev/null 2>&1 || die "$HOKAN --version failed: is it a hokan binary?"
fi

# ---------------------------------------------------------------- /usr/bin/time
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && have apt-get; then
        loud "/usr/bin/time is missing: installing the Debian package 'time' (apt-get install -y time)"
        apt-get install -y time >/dev/null || die "apt-get install -y time failed"
    else
        die "/usr/bin/time is missing: install the Debian package 'time' (apt-get install -y time)"
    fi
fi

# ---------------------------------------------------------------- work folder
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
exec 9>"$WORK/.lock"
flock -n 9 || die "another bench run is using $WORK"
# Remove only what this script creates.
rm -rf "$WORK/data" "$WORK/logs" "$WORK/results.json" "$WORK/table.txt" \
       "$WORK/meta.tsv" "$WORK/records.tsv"
for t in "${ALL_TOOLS[@]}"; do rm -rf "$WORK/repo-$t" "$WORK/restore-$t" "$WORK/home-$t"; done
DATA=$WORK/data
LOGS=$WORK/logs
META=$WORK/meta.tsv
RECORDS=$WORK/records.tsv
mkdir -p "$LOGS"
: >"$META"
: >"$RECORDS"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

# ---------------------------------------------------------------- page cache
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    CACHE_MODE=cold
    drop_cache() { sync; echo 3 >/proc/sys/vm/drop_caches; }
else
    CACHE_MODE=warm
    drop_cache() { sync; }
    loud "cannot write /proc/sys/vm/drop_caches (not root, or /proc/sys read-only):" \
         "runs use a WARM cache; the table says so. Tools still run in the same order each night."
fi

# ---------------------------------------------------------------- tool settings
# Fixed bench-only secrets; each tool gets its own HOME so caches/keys/security
# state live in the work folder and start empty on every run.
export HOKAN_PASSWORD=hokan-bench-password
export RESTIC_PASSWORD=hokan-bench-password
export RUSTIC_PASSWORD=hokan-bench-password
export BORG_PASSPHRASE=hokan-bench-password
unset HOKAN_REPO RESTIC_REPOSITORY RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND \
      RESTIC_CACHE_DIR RESTIC_COMPRESSION BORG_REPO BORG_BASE_DIR BORG_CACHE_DIR BORG_CONFIG_DIR \
      BORG_SECURITY_DIR BORG_KEYS_DIR BORG_PASSCOMMAND BORG_PASSPHRASE_FD BORG_RSH 2>/dev/null || true
export BORG_DISPLAY_PASSPHRASE=no

tenv() {  # tenv TOOL -> prints nothing; sets TENV array: env prefix for that tool
    local h=$WORK/home-$1
    mkdir -p "$h/.cache" "$h/.config"
    TENV=(env "HOME=$h" "XDG_CACHE_HOME=$h/.cache" "XDG_CONFIG_HOME=$h/.config")
}
repo_of() { printf '%s' "$WORK/repo-$1"; }

# Command lines (arrays) for each tool and step.
cmd_init() {
    local r; r=$(repo_of "$1")
    case "$1" in
        hokan)  CMD=("$HOKAN" init --repo "$r") ;;
        restic) CMD=(restic -r "$r" init) ;;
        rustic) CMD=(rustic -r "$r" init) ;;
        borg)   CMD=(borg init --encryption=repokey-blake2 "$r") ;;
    esac
}
cmd_backup() {  # TOOL NIGHT
    local r; r=$(repo_of "$1")
    case "$1" in
        hokan)  CMD=("$HOKAN" backup --repo "$r" --source bench "$DATA") ;;
        restic) CMD=(restic -r "$r" backup "$DATA") ;;
        rustic) CMD=(rustic -r "$r" backup "$DATA") ;;
        borg)   CMD=(borg create --compression zstd,3 "$r::night-$2" "$DATA") ;;
    esac
}
cmd_restore() {  # TOOL TARGET   (borg extracts into the current directory)
    local r; r=$(repo_of "$1")
    case "$1" in
        hokan)  CMD=("$HOKAN" restore --repo "$r" latest --target "$2") ;;
        restic) CMD=(restic -r "$r" restore latest --target "$2") ;;
        rustic) CMD=(rustic -r "$r" restore latest "$2") ;;
        borg)   CMD=(borg extract "$r::$BORG_LATEST") ;;
    esac
}
cmd_snapshots() {
    local r; r=$(repo_of "$1")
    case "$1" in
        hokan)  CMD=("$HOKAN" snapshots --repo "$r" --json) ;;
        restic) CMD=(restic -r "$r" snapshots --json) ;;
        rustic) CMD=(rustic -r "$r" snapshots --json) ;;
        borg)   CMD=(borg list --json "$r") ;;
    esac
}
# Exit status -> status word. hokan/restic: 3 = partial snapshot; borg: 1 = warning.
classify() {  # TOOL RC
    case "$1:$2" in
        *:0) echo ok ;;
        hokan:3|restic:3) echo partial ;;
        borg:1) echo warning ;;
        *) echo FAILED ;;
    esac
}

human() { python3 -c '
import sys
n = float(sys.argv[1])
for u in ("B", "KiB", "MiB", "GiB", "TiB"):
    if n < 1024 or u == "TiB":
        print(("%d %s" if u == "B" else "%.2f %s") % (n, u)); break
    n /= 1024' "$1"; }
size_of() { du -sb "$1" 2>/dev/null | cut -f1; }

# measure PHASE TOOL CWD -- cmd...   -> appends a record, sets M_STATUS/M_SECS
measure() {
    local phase=$1 tool=$2 cwd=$3; shift 4
    local tf=$LOGS/$phase.$tool.time log=$LOGS/$phase.$tool.log rc=0
    drop_cache
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    tenv "$tool"
    ( cd "$cwd" && exec /usr/bin/time -f '%e %M' -o "$tf" "${TENV[@]}" "$@" ) >"$log" 2>&1 || rc=$?
    local secs kib
    read -r secs kib < <(tail -n1 "$tf" 2>/dev/null || true) || true
    [[ "${secs:-}" =~ ^[0-9.]+$ ]] || secs=""
    [[ "${kib:-}" =~ ^[0-9]+$ ]] || kib=""
    M_STATUS=$(classify "$tool" "$rc")
    M_SECS=$secs
    M_KIB=$kib
    M_RC=$rc
    M_LOAD=$load
    M_LOG=$log
}
record() {  # phase tool status rc secs kib repo_bytes cache_bytes load note
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RECORDS"
}

# ---------------------------------------------------------------- versions, machine
meta scale "$SCALE"
meta nights "$NIGHTS"
meta seed "$SEED"
meta tools "$(IFS=,; echo "${TOOLS[*]}")"
meta cache_mode "$CACHE_MODE"
meta work "$WORK"
meta data_dir "$DATA"
meta dataset_generator "hokan-testdata (crates/testdata) create --scale $SCALE --seed $SEED"
meta started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta host_cpus "$(nproc)"
meta host_cpu "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown)"
meta host_mem_kib "$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
meta host_kernel "$(uname -r)"
meta load_at_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta hokan_commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- crates 2>/dev/null || echo '+dirty')"
uses hokan  && meta version_hokan "$("$HOKAN" --version 2>&1 | head -n1)" && meta hokan_binary "$HOKAN"
uses restic && meta version_restic "$(restic version 2>&1 | head -n1)"
uses rustic && meta version_rustic "$(rustic --version 2>&1 | head -n1)"
uses borg   && meta version_borg "$(borg --version 2>&1 | head -n1)"
meta settings_hokan "hokan init; hokan backup --source bench DIR (defaults)"
meta settings_restic "restic defaults: restic init (repo format v2), compression auto"
meta settings_rustic "rustic defaults: rustic init, compression level 3"
meta settings_borg "borg init --encryption=repokey-blake2; borg create --compression zstd,3 (borg default is lz4; zstd,3 compares like with like)"

say "hokan bench: scale $SCALE, $NIGHTS night(s), tools: ${TOOLS[*]}, $CACHE_MODE cache"
say "work folder: $WORK"
uses hokan && say "hokan:  $("$HOKAN" --version 2>&1 | head -n1) ($HOKAN)"
uses restic && say "restic: $(restic version 2>&1 | head -n1)"
uses rustic && say "rustic: $(rustic --version 2>&1 | head -n1)"
uses borg && say "borg:   $(borg --version 2>&1 | head -n1)  (--compression zstd,3; borg's default is lz4, we use zstd,3 to compare like with like)"

# ---------------------------------------------------------------- data set
say ""
say "creating the data set (scale $SCALE, seed $SEED) in $DATA ..."
t0=$(date +%s)
testdata create "$DATA" --scale "$SCALE" --seed "$SEED" \
    || die "hokan-testdata create failed (see above)"
say "  done in $(( $(date +%s) - t0 )) s: $(human "$(size_of "$DATA")"), $(find "$DATA" -type f | wc -l) files"

# ---------------------------------------------------------------- init
declare -A DEAD=()
for t in "${TOOLS[@]}"; do
    cmd_init "$t"
    tenv "$t"
    if ! "${TENV[@]}" "${CMD[@]}" >"$LOGS/init.$t.log" 2>&1; then
        loud "$t: repository init FAILED (see $LOGS/init.$t.log); $t is skipped from now on."
        tail -n 5 "$LOGS/init.$t.log" >&2 || true
        DEAD[$t]=1
    fi
done
uses restic && [ -z "${DEAD[restic]:-}" ] && \
    meta restic_repo_version "$(restic -r "$(repo_of restic)" cat config 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version"))' 2>/dev/null || echo unknown)"

# ---------------------------------------------------------------- nights
for n in $(seq 0 "$NIGHTS"); do
    say ""
    if [ "$n" -gt 0 ]; then
        say "night $n: ageing the data set (hokan-testdata night) ..."
        testdata night "$DATA" || die "hokan-testdata night failed (see above)"
    fi
    dbytes=$(size_of "$DATA"); dfiles=$(find "$DATA" -type f | wc -l)
    meta "data_bytes_night_$n" "$dbytes"
    meta "data_files_night_$n" "$dfiles"
    say "night $n: data set $(human "$dbytes"), $dfiles files"
    for t in "${TOOLS[@]}"; do
        if [ -n "${DEAD[$t]:-}" ]; then
            record "backup-$n" "$t" SKIPPED "" "" "" "" "" "" "init failed"; continue
        fi
        cmd_backup "$t" "$n"
        measure "backup-$n" "$t" "$WORK" -- "${CMD[@]}"
        rb=$(size_of "$(repo_of "$t")"); cb=$(size_of "$WORK/home-$t")
        record "backup-$n" "$t" "$M_STATUS" "$M_RC" "$M_SECS" "$M_KIB" "$rb" "$cb" "$M_LOAD" ""
        printf '  %-7s backup: %8s s  peak %10s  repo %10s  [%s]\n' "$t" "${M_SECS:-?}" \
            "$(human "$(( ${M_KIB:-0} * 1024 ))")" "$(human "${rb:-0}")" "$M_STATUS"
        if [ "$M_STATUS" = FAILED ]; then
            loud "$t backup of night $n FAILED with exit status $M_RC; last lines of $M_LOG:"
            tail -n 8 "$M_LOG" >&2 || true
        elif [ "$M_STATUS" != ok ]; then
            say "  note: $t exit status $M_RC ($M_STATUS), see $M_LOG"
        fi
    done
done

# ---------------------------------------------------------------- snapshots (sanity)
for t in "${TOOLS[@]}"; do
    [ -n "${DEAD[$t]:-}" ] && continue
    cmd_snapshots "$t"
    tenv "$t"
    "${TENV[@]}" "${CMD[@]}" >"$LOGS/snapshots.$t.json" 2>"$LOGS/snapshots.$t.err" || true
done

# ---------------------------------------------------------------- restore
# Find the restored copy of the data dir inside a restore target.
find_restored() {
    local tgt=$1 base; base=$(basename "$DATA")
    local c
    for c in "$tgt$DATA" "$tgt/$base" "$tgt"; do
        [ -f "$c/.night" ] && { printf '%s' "$c"; return 0; }
    done
    c=$(find "$tgt" -maxdepth 16 -type f -name .night -print -quit 2>/dev/null || true)
    [ -n "$c" ] && { dirname "$c"; return 0; }
    return 1
}

say ""
say "restore of the latest snapshot (night $NIGHTS) ..."
for t in "${TOOLS[@]}"; do
    if [ -n "${DEAD[$t]:-}" ]; then
        record restore "$t" SKIPPED "" "" "" "" "" "" "init failed"; continue
    fi
    tgt=$WORK/restore-$t
    rm -rf "$tgt"; mkdir -p "$tgt"
    BORG_LATEST=""
    if [ "$t" = borg ]; then
        tenv borg
        BORG_LATEST=$("${TENV[@]}" borg list --last 1 --format '{archive}' "$(repo_of borg)" 2>"$LOGS/restore.borg.list.err" || true)
        if [ -z "$BORG_LATEST" ]; then
            loud "borg: could not find the latest archive (see $LOGS/restore.borg.list.err)"
            record restore borg FAILED "" "" "" "" "" "" "no latest archive"; continue
        fi
    fi
    cmd_restore "$t" "$tgt"
    measure restore "$t" "$tgt" -- "${CMD[@]}"
    status=$M_STATUS note=""
    if [ "$status" != FAILED ]; then
        if got=$(find_restored "$tgt"); then
            if diff -r -q --no-dereference "$DATA" "$got" >"$LOGS/restore.$t.diff" 2>&1; then
                note="identical: compared $got"
            else
                status=MISMATCH
                note="MISMATCH: compared $got, $(wc -l <"$LOGS/restore.$t.diff") differences, see $LOGS/restore.$t.diff"
            fi
        else
            status=MISMATCH
            note="MISMATCH: no restored copy of the data dir found under $tgt"
        fi
    else
        note="restore exited with status $M_RC, see $M_LOG"
    fi
    record restore "$t" "$status" "$M_RC" "$M_SECS" "$M_KIB" "$(size_of "$(repo_of "$t")")" \
        "$(size_of "$WORK/home-$t")" "$M_LOAD" "$note"
    printf '  %-7s restore: %7s s  peak %10s  [%s] %s\n' "$t" "${M_SECS:-?}" \
        "$(human "$(( ${M_KIB:-0} * 1024 ))")" "$status" "$note"
    case "$status" in
        MISMATCH) loud "$t: RESTORE IS NOT IDENTICAL TO THE DATA SET" "$note"
                  head -n 10 "$LOGS/restore.$t.diff" >&2 2>/dev/null || true ;;
        FAILED)   loud "$t: RESTORE FAILED with exit status $M_RC; last lines of $M_LOG:"
                  tail -n 8 "$M_LOG" >&2 || true ;;
    esac
done
meta finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta load_at_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- report
say ""
python3 "$BENCH_DIR/report.py" "$WORK" | tee "$WORK/table.txt"
say ""
say "raw numbers: $WORK/results.json   logs: $LOGS"
if cut -f3 "$RECORDS" | grep -qE '^(FAILED|MISMATCH|SKIPPED)$'; then
    loud "some runs FAILED or restored data did NOT match (see the table above): exit status 1"
    exit 1
fi
