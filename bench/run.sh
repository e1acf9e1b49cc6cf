#!/bin/sh
# run.sh -- `make bench`: side-by-side producer and consumer benchmarks, written to
# bench/RESULTS.md.
#
# Starts librdkafka's mock cluster (build/tests/mockcluster) and, when it is
# built, a rill-broker; against each, runs `rill perf produce` and librdkafka's
# producer (build/bench/rdperf) with the same settings (acks=1, linger.ms=5,
# idempotence off, compression none and lz4, 100 B and 1 KiB values, 2M
# messages), several repetitions, alternating which client goes first.  With
# rill-broker it also measures the consumers: `rill perf consume` and librdkafka's
# consumer (build/bench/rdconsume) reading the same COUNT messages (each size) from
# the same broker (the mock cluster serves fetches too slowly to measure a client).
# bench/compare.py turns the lines into medians and ratios.  Missing pieces
# (build/rill, build/rill-broker) are skipped and the skip is written down.
#
# Knobs (environment): BENCH_REPS (5), BENCH_COUNT (2000000), BENCH_SIZES
# ("100 1024"), BENCH_CODECS ("none lz4"), BENCH_OUT (bench/RESULTS.md),
# BENCH_RUN_TIMEOUT (300 s per run), BENCH_NOTE (a line for the notes),
# BENCH_SETTINGS (the client settings both sides get; default below),
# RILL_BUILD_DIR (build).
# Every server listens on 127.0.0.1 and is stopped on exit.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${RILL_BUILD_DIR:-$SRC/build}
REPS=${BENCH_REPS:-5}
COUNT=${BENCH_COUNT:-2000000}
SIZES=${BENCH_SIZES:-"100 1024"}
CODECS=${BENCH_CODECS:-"none lz4"}
OUT=${BENCH_OUT:-$SRC/bench/RESULTS.md}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-300}
KINDS=${BENCH_KINDS:-"produce consume"}
SETTINGS=${BENCH_SETTINGS:-"acks=1 linger.ms=5 enable.idempotence=false queue.buffering.max.messages=2000000"}

MOCK=$BUILD/tests/mockcluster
RDPERF=$BUILD/bench/rdperf
RDCONSUME=$BUILD/bench/rdconsume
RILL=$BUILD/rill
BROKER=$BUILD/rill-broker

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$MOCK" ] || die "$MOCK not built (run make build)"
[ -x "$RDPERF" ] || die "$RDPERF not built (needs librdkafka-dev; run make build)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench.XXXXXX")

# Run private copies, so that a rebuild during the run cannot swap a binary
# under it (the programs link librill statically).
snapshot() { # PATH-UNDER-BUILD
    [ -x "$BUILD/$1" ] || return 0
    mkdir -p "$WORK/bin/$(dirname "$1")"
    cp "$BUILD/$1" "$WORK/bin/$1"
}
for f in tests/mockcluster bench/rdperf bench/rdconsume rill rill-broker; do snapshot "$f"; done
MOCK=$WORK/bin/tests/mockcluster
RDPERF=$WORK/bin/bench/rdperf
RDCONSUME=$WORK/bin/bench/rdconsume
RILL=$WORK/bin/rill
BROKER=$WORK/bin/rill-broker
RAW=$WORK/raw.txt
CMDS=$WORK/commands.txt
NOTES=$WORK/notes.txt
META=$WORK/meta.txt
: >"$RAW"; : >"$CMDS"; : >"$NOTES"
MOCK_PID=""
BROKER_PID=""

cleanup() {
    exec 3>&- 2>/dev/null || true   # closing the mock cluster's stdin stops it
    if [ -n "$MOCK_PID" ]; then
        i=0; while kill -0 "$MOCK_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill "$MOCK_PID" 2>/dev/null || true
    fi
    stop_broker
    rm -rf "$WORK"
}

note() { echo "$*" >>"$NOTES"; echo "bench: $*" >&2; }
[ -z "${BENCH_NOTE:-}" ] || echo "$BENCH_NOTE" >>"$NOTES"   # e.g. what else ran on the machine

# wait_for_line FILE REGEX SECONDS: prints the first matching line, or fails.
wait_for_line() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        line=$(grep -E -m1 "$2" "$1" 2>/dev/null || true)
        if [ -n "$line" ]; then echo "$line"; return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

start_mock() {
    mkfifo "$WORK/mock.ctl"
    "$MOCK" --brokers 1 <"$WORK/mock.ctl" >"$WORK/mock.out" 2>"$WORK/mock.err" &
    MOCK_PID=$!
    exec 3>"$WORK/mock.ctl"
    line=$(wait_for_line "$WORK/mock.out" '^BOOTSTRAP ' 15) || die "mock cluster did not start"
    MOCK_BS=${line#BOOTSTRAP }
}

# mock_cmd COMMAND...: sends one command and checks the OK answer.
mock_cmd() {
    n=$(wc -l <"$WORK/mock.out")
    echo "$*" >&3
    i=0
    while [ "$(wc -l <"$WORK/mock.out")" -le "$n" ]; do
        [ $i -lt 100 ] || die "mock cluster did not answer '$*'"
        sleep 0.1; i=$((i + 1))
    done
    answer=$(tail -n 1 "$WORK/mock.out")
    [ "$answer" = OK ] || die "mock cluster: '$*' -> $answer"
}

# start_broker: a fresh rill-broker on a fresh data dir; sets BROKER_BS.
start_broker() {
    rm -rf "$WORK/broker-data"
    "$BROKER" --listen 127.0.0.1:0 --data-dir "$WORK/broker-data" >"$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    line=$(wait_for_line "$WORK/broker.log" 'listening on ' 20) || {
        note "rill-broker did not start: $(tail -n 3 "$WORK/broker.log" | tr '\n' ' ')"
        stop_broker; return 1; }
    BROKER_BS=$(echo "$line" | sed -E 's/.*listening on ([^ ]+).*/\1/')
}

stop_broker() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        i=0; while kill -0 "$BROKER_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=""
    fi
}

# run_probe KIND TARGET CLIENT SIZE CODEC REP COMMAND...: runs one measurement,
# appends its RESULT line to $RAW and the command (bootstrap made generic) to $CMDS.
run_probe() {
    tags="kind=$1 target=$2 client=$3 size=$4 codec=$5 rep=$6"
    run_target=$2
    shift 6
    echo "$*" | sed -E -e "s|$WORK/bin/|build/|g" -e "s|$SRC/||g" -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
        -e 's/bench_[A-Za-z0-9_]+/TOPIC/g' >>"$CMDS"
    rc=0
    timeout "$RUN_TIMEOUT" "$@" >"$WORK/run.out" 2>"$WORK/run.err" || rc=$?
    line=$(grep -E 'msgs/s' "$WORK/run.out" | tail -n 1 || true)
    [ -n "$line" ] || line="no result line; stderr: $(tail -n 3 "$WORK/run.err" | tr '\n' ' ')"
    if [ "$rc" != 0 ] && [ "$run_target" = rill-broker ]; then
        # What the broker said, for whoever fixes it.
        alive=running
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            st=0; wait "$BROKER_PID" || st=$?
            alive="exited with status $st"; BROKER_PID=""
        fi
        line="$line; rill-broker $alive: $(grep -v '^%' "$WORK/broker.log" | tail -n 2 | tr '\n' ' ')"
    fi
    echo "RESULT $tags rc=$rc | $line" >>"$RAW"
    echo "bench: $tags rc=$rc: $line" >&2
}

rdperf_cmd() { # BOOTSTRAP TOPIC SIZE CODEC
    echo "$RDPERF $1 $2 $COUNT $3 $SETTINGS compression.type=$4"
}

rill_cmd() { # BOOTSTRAP TOPIC SIZE CODEC
    xs=""
    for kv in $SETTINGS compression.type=$4; do xs="$xs -X $kv"; done
    echo "$RILL perf produce -b $1 -t $2 -n $COUNT -s $3$xs"
}

# produce_round TARGET: every size x codec x repetition against one target.
produce_round() {
    target=$1
    for size in $SIZES; do
        for codec in $CODECS; do
            rep=1
            while [ $rep -le "$REPS" ]; do
                # Odd repetitions: librdkafka first; even: rill first.
                if [ $((rep % 2)) -eq 1 ]; then order="librdkafka rill"; else order="rill librdkafka"; fi
                for client in $order; do
                    [ "$client" = rill ] && [ "$HAVE_RILL" = 0 ] && continue
                    topic="bench_${size}_${codec}_${client}_$rep"
                    if [ "$target" = mock ]; then
                        bs=$MOCK_BS
                        mock_cmd topic "$topic" 1 1
                    else
                        stop_broker; start_broker || continue
                        bs=$BROKER_BS
                    fi
                    if [ "$client" = librdkafka ]; then
                        # shellcheck disable=SC2046
                        run_probe produce "$target" "$client" "$size" "$codec" "$rep" \
                            $(rdperf_cmd "$bs" "$topic" "$size" "$codec")
                    else
                        # shellcheck disable=SC2046
                        run_probe produce "$target" "$client" "$size" "$codec" "$rep" \
                            $(rill_cmd "$bs" "$topic" "$size" "$codec")
                    fi
                done
                rep=$((rep + 1))
            done
        done
    done
}

# consume_round: for each value size, one fresh rill-broker holding COUNT messages
# (written once by librdkafka's producer), then REPS alternating reads of the whole
# topic from the beginning by librdkafka's consumer (rdconsume) and `rill perf
# consume`; both start their clock at the first message.
consume_round() {
    for size in $SIZES; do
        stop_broker; start_broker || return 0
        topic=bench_consume_$size
        # shellcheck disable=SC2046
        run_probe fill rill-broker librdkafka "$size" none 0 \
            $(rdperf_cmd "$BROKER_BS" "$topic" "$size" none)
        rep=1
        while [ $rep -le "$REPS" ]; do
            if [ $((rep % 2)) -eq 1 ]; then order="librdkafka rill"; else order="rill librdkafka"; fi
            for client in $order; do
                if [ "$client" = librdkafka ]; then
                    run_probe consume rill-broker librdkafka "$size" none "$rep" \
                        "$RDCONSUME" "$BROKER_BS" "$topic" "$COUNT"
                elif [ "$HAVE_RILL" = 1 ]; then
                    run_probe consume rill-broker rill "$size" none "$rep" \
                        "$RILL" perf consume -b "$BROKER_BS" -t "$topic" -n "$COUNT"
                fi
            done
            rep=$((rep + 1))
        done
    done
}

trap cleanup EXIT
trap 'exit 130' INT TERM

HAVE_RILL=0
if [ -x "$RILL" ]; then
    HAVE_RILL=1
else
    note "build/rill does not exist yet: the rill perf produce lines were skipped; only librdkafka (rdperf) was measured."
fi
HAVE_BROKER=0
if [ -x "$BROKER" ]; then
    HAVE_BROKER=1
else
    note "build/rill-broker does not exist yet: only librdkafka's mock cluster was used as the broker; no consume figures."
fi

wants() { case " $KINDS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

start_mock
echo "bench: mock cluster at $MOCK_BS" >&2
if wants produce; then produce_round mock; fi
# A broker that cannot take a small produce would turn every run into a
# delivery timeout: check once, and say so instead.
broker_smoke() {
    start_broker || return 1
    if ! timeout 60 "$RDPERF" "$BROKER_BS" bench_smoke 1000 100 acks=1 message.timeout.ms=10000 \
            >"$WORK/smoke.out" 2>"$WORK/smoke.err"; then
        note "rill-broker did not take 1000 messages from librdkafka, so it was left out: $(tail -n 1 "$WORK/smoke.out") $(grep -v '^%' "$WORK/broker.log" | tail -n 2 | tr '\n' ' ')"
        stop_broker
        return 1
    fi
    stop_broker
}

if [ "$HAVE_BROKER" = 1 ] && broker_smoke; then
    if wants produce; then produce_round rill-broker; fi
    if wants consume; then consume_round; fi
    stop_broker
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)
rdver=$(sed -n 's/.*| librdkafka \([0-9][0-9.]*\).*/librdkafka \1/p' "$RAW" | head -n 1)
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: $(nproc) cores, ${cpu:-unknown}, $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "anchor: ${rdver:-librdkafka (no successful run)} (Debian package), bench/rdperf.c and bench/rdconsume.c"
    echo "rill: $([ "$HAVE_RILL" = 1 ] && echo "build/rill perf produce, build/rill perf consume" || echo "not built: skipped")"
    echo "brokers: librdkafka mock cluster (1 broker, in memory, topic of 1 partition)$([ "$HAVE_BROKER" = 1 ] && echo "; rill-broker (fresh data dir per run)")"
    echo "settings: $COUNT messages per run, values of $(echo "$SIZES" | sed 's/ / and /') bytes ('x' repeated, no key), compression $(echo "$CODECS" | sed 's/ / and /'), $SETTINGS"
    echo "repetitions: $REPS"
} >"$META"

/usr/bin/python3 "$SRC/bench/compare.py" --raw "$RAW" --meta "$META" --commands "$CMDS" \
    --notes "$NOTES" --out "$OUT"
echo "bench: wrote $OUT" >&2
