# Sourced by the bench scripts (with the script's arguments): the options
# they share and the hokan binary they measure.
#
# Before sourcing, a script sets NAME (for messages), HELP (the last line of
# its header comment, printed by --help) and its defaults MIB, ROUNDS and
# WORK; it may define `extra_option OPTION VALUE`, returning 0 when it took
# an option of its own. Afterwards BENCH_DIR, ROOT and HOKAN are set: the
# release binary of this checkout is built (or brought up to date) unless
# --hokan PATH names one.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")
HOKAN=""
PEERS="restic,rustic,borg"

while [ $# -gt 0 ]; do
    case "$1" in
        --mib) MIB=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --hokan) HOKAN=$2; shift 2 ;;
        --peers) PEERS=$2; shift 2 ;;
        -h|--help) sed -n "2,${HELP}p" "$0"; exit 0 ;;
        *)
            if declare -F extra_option > /dev/null && [ $# -ge 2 ] && extra_option "$1" "$2"; then
                shift 2
            else
                echo "$NAME: unknown option $1" >&2
                exit 2
            fi
            ;;
    esac
done

if [ -z "$HOKAN" ]; then
    (cd "$ROOT" && cargo build --release -p hokan)
    HOKAN="$ROOT/target/release/hokan"
fi

# peer NAME: whether to measure the peer NAME (installed, and in --peers,
# which defaults to all of restic, rustic and borg; `--peers ""` for none).
peer() {
    [[ ",$PEERS," == *",$1,"* ]] && command -v "$1" > /dev/null
}

# run TOOL KIND CMD...: time CMD followed by a `sync`, so every tool's work
# is durable; append "TOOL KIND seconds peak_kib" to $WORK/times. A failed
# command stops the benchmark with its output.
run() {
    local name=$1 kind=$2; shift 2
    sync
    local t0 t1 peak
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/peak" "$@" > "$WORK/out.log" 2>&1 || {
        echo "$NAME: $name $kind failed:" >&2; cat "$WORK/out.log" >&2; exit 1; }
    sync
    t1=$(date +%s.%N)
    peak=$(tail -1 "$WORK/peak")
    echo "$name $kind $(awk "BEGIN{print $t1 - $t0}") $peak" >> "$WORK/times"
}
