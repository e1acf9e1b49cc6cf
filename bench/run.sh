#!/bin/sh
# run.sh -- `make bench`: side-by-side producer and consumer benchmarks, written to
# bench/RESULTS.md.
#
# Starts librdkafka's mock cluster (build/tests/mockcluster) and, when it is
# built, rill-broker; then, by kind (BENCH_KINDS):
#   produce  `rill perf produce` and librdkafka's producer (build/bench/rdperf) with the
#            same settings (acks=1, linger.ms=5, idempotence off, compression none and
#            lz4, 100 B and 1 KiB values, 2M messages) into the mock and into rill-broker;
#   acksall  librdkafka's producer with acks=all into both (rill-broker fsyncs before it
#            answers: its default log.flush.policy=acks-all), compression none;
#   latency  build/bench/rdlatency: librdkafka's producer at a fixed 10k msgs/s with
#            linger.ms=0 and acks=1, each message's time to its delivery report (p50,
#            p99) against both;
#   consume  `rill perf consume` and librdkafka's consumer (build/bench/rdconsume) reading
#            the same COUNT messages (each size) from rill-broker (the mock cluster keeps
#            only the last few MB of a partition, so it cannot serve this);
#   fetch    build/bench/fetchprobe reading the same topic with raw Fetch requests: the
#            broker's Fetch path without a consumer's decoding;
#   idle     rill-broker's resident memory when idle: fresh, and after the consume round;
#   store    build/bench/storeprobe: what keeping bytes costs on this machine (1 GiB into
#            new page cache, over cached pages, with O_DIRECT, into new memory), the
#            scale for rill-broker against a mock that keeps only a few MB.
# Several repetitions of everything, interleaved: odd repetitions run the mock (and
# librdkafka) first, even ones rill-broker (and rill) first, each rill-broker run on a
# fresh broker and data dir.  bench/compare.py turns the lines into medians and ratios.
# Missing pieces (build/rill, build/rill-broker) are skipped and the skip is written down.
# Run it alone: on a shared machine, as `flock /tmp/rill-bench.lock make bench`.
#
# Knobs (environment): BENCH_REPS (5), BENCH_COUNT (2000000), BENCH_SIZES ("100 1024"),
# BENCH_CODECS ("none lz4"), BENCH_KINDS ("store produce acksall latency consume fetch idle"),
# BENCH_LAT_RATE (10000), BENCH_LAT_SECONDS (5), BENCH_LAT_SIZE (100),
# BENCH_SETTINGS (the producer settings besides acks that both clients get; default below),
# BENCH_OUT (bench/RESULTS.md), BENCH_RUN_TIMEOUT (300 s per run), BENCH_NOTE (a line for
# the notes), RILL_BUILD_DIR (build).
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
KINDS=${BENCH_KINDS:-"store produce acksall latency consume fetch idle"}
LAT_RATE=${BENCH_LAT_RATE:-10000}
LAT_SECONDS=${BENCH_LAT_SECONDS:-5}
LAT_SIZE=${BENCH_LAT_SIZE:-100}
BASE_SETTINGS=${BENCH_SETTINGS:-"linger.ms=5 enable.idempotence=false queue.buffering.max.messages=2000000"}
SETTINGS="acks=1 $BASE_SETTINGS"
ALL_SETTINGS="acks=all $BASE_SETTINGS"

MOCK=$BUILD/tests/mockcluster
RDPERF=$BUILD/bench/rdperf
RDCONSUME=$BUILD/bench/rdconsume
RDLATENCY=$BUILD/bench/rdlatency
FETCHPROBE=$BUILD/bench/fetchprobe
STOREPROBE=$BUILD/bench/storeprobe
RILL=$BUILD/rill
BROKER=$BUILD/rill-broker

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$MOCK" ] || die "$MOCK not built (run make build)"
[ -x "$RDPERF" ] || die "$RDPERF not built (needs librdkafka-dev; run make build)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench.XXXXXX")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Run private copies, so that a rebuild during the run cannot swap a binary
# under it (the programs link librill statically).
snapshot() { # PATH-UNDER-BUILD
    [ -x "$BUILD/$1" ] || return 0
    mkdir -p "$WORK/bin/$(dirname "$1")"
    cp "$BUILD/$1" "$WORK/bin/$1"
}
for f in tests/mockcluster bench/rdperf bench/rdconsume bench/rdlatency bench/fetchprobe \
    bench/storeprobe rill rill-broker; do snapshot "$f"; done
MOCK=$WORK/bin/tests/mockcluster
RDPERF=$WORK/bin/bench/rdperf
RDCONSUME=$WORK/bin/bench/rdconsume
RDLATENCY=$WORK/bin/bench/rdlatency
FETCHPROBE=$WORK/bin/bench/fetchprobe
STOREPROBE=$WORK/bin/bench/storeprobe
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

# start_broker [ARGS...]: a fresh rill-broker on a fresh data dir; sets BROKER_BS.
start_broker() {
    rm -rf "$WORK/broker-data"
    # Emptied here, not by the redirection below: that one happens in the child, maybe
    # after wait_for_line has read the previous broker's "listening on" line.
    : >"$WORK/broker.log"
    "$BROKER" --listen 127.0.0.1:0 --data-dir "$WORK/broker-data" "$@" >"$WORK/broker.log" 2>&1 &
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
    # The 1-minute load average before the run: on a shared machine, what else was running.
    tags="kind=$1 target=$2 client=$3 size=$4 codec=$5 rep=$6 load=$(cut -d' ' -f1 /proc/loadavg)"
    run_target=$2
    shift 6
    echo "$*" | sed -E -e "s|$WORK/bin/|build/|g" -e "s|$WORK|WORKDIR|g" -e "s|$SRC/||g" -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
        -e 's/bench_[A-Za-z0-9_]+/TOPIC/g' >>"$CMDS"
    rc=0
    timeout "$RUN_TIMEOUT" "$@" >"$WORK/run.out" 2>"$WORK/run.err" || rc=$?
    line=$(grep -E 'msgs/s|^storeprobe:' "$WORK/run.out" | tail -n 1 || true)
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

rdperf_cmd() { # BOOTSTRAP TOPIC SIZE CODEC [SETTINGS]
    echo "$RDPERF $1 $2 $COUNT $3 ${5:-$SETTINGS} compression.type=$4"
}

rill_cmd() { # BOOTSTRAP TOPIC SIZE CODEC
    xs=""
    for kv in $SETTINGS compression.type=$4; do xs="$xs -X $kv"; done
    echo "$RILL perf produce -b $1 -t $2 -n $COUNT -s $3$xs"
}

# targets REP: the brokers of this repetition, in its order (odd: the mock first).
targets() {
    if [ "$HAVE_BROKER" = 0 ]; then echo mock
    elif [ $(($1 % 2)) -eq 1 ]; then echo "mock rill-broker"
    else echo "rill-broker mock"; fi
}

# target_bs TARGET TOPIC [BROKER-ARGS...]: the topic on the mock, or a fresh rill-broker
# with the topic; sets BS.  Both create the topic before the measured run: the mock by command,
# rill-broker by auto-creation under a one-message produce (its creation fsyncs files
# and directories, which on a busy disk took up to a second of a timed run).
target_bs() {
    if [ "$1" = mock ]; then
        mock_cmd topic "$2" 1 1
        BS=$MOCK_BS
    else
        t=$2
        shift 2
        stop_broker; start_broker "$@" || return 1
        BS=$BROKER_BS
        timeout 60 "$RDPERF" "$BS" "$t" 1 1 acks=1 >/dev/null 2>&1 ||
            note "could not create topic $t on rill-broker before its run"
    fi
}

# produce_round: every size x codec x repetition, both clients, both targets interleaved.
produce_round() {
    for size in $SIZES; do
        for codec in $CODECS; do
            rep=1
            while [ $rep -le "$REPS" ]; do
                # Odd repetitions: librdkafka first; even: rill first.
                if [ $((rep % 2)) -eq 1 ]; then order="librdkafka rill"; else order="rill librdkafka"; fi
                for target in $(targets $rep); do
                    for client in $order; do
                        [ "$client" = rill ] && [ "$HAVE_RILL" = 0 ] && continue
                        topic="bench_${size}_${codec}_${client}_$rep"
                        target_bs "$target" "$topic" || continue
                        if [ "$client" = librdkafka ]; then
                            # shellcheck disable=SC2046
                            run_probe produce "$target" "$client" "$size" "$codec" "$rep" \
                                $(rdperf_cmd "$BS" "$topic" "$size" "$codec")
                        else
                            # shellcheck disable=SC2046
                            run_probe produce "$target" "$client" "$size" "$codec" "$rep" \
                                $(rill_cmd "$BS" "$topic" "$size" "$codec")
                        fi
                    done
                done
                rep=$((rep + 1))
            done
        done
    done
    stop_broker
}

# acksall_round: librdkafka's producer with acks=all, compression none, both targets.
acksall_round() {
    for size in $SIZES; do
        rep=1
        while [ $rep -le "$REPS" ]; do
            for target in $(targets $rep); do
                topic="bench_all_${size}_$rep"
                target_bs "$target" "$topic" || continue
                # shellcheck disable=SC2046
                run_probe acksall "$target" librdkafka "$size" none "$rep" \
                    $(rdperf_cmd "$BS" "$topic" "$size" none "$ALL_SETTINGS")
            done
            rep=$((rep + 1))
        done
    done
    stop_broker
}

# broker_time REP: rill-broker's own Produce handling time (request read -> response
# ready) from its --metrics histogram, as a RESULT line: what of the latency is the broker's.
broker_time() {
    url=$(sed -nE 's|.*metrics on (http://[^ ]+).*|\1|p' "$WORK/broker.log" | head -n 1)
    line=$(/usr/bin/python3 - "$url" <<'PY' 2>&1 || true
import re, sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
b = [(float(m.group(1)), int(m.group(2))) for m in re.finditer(
    r'rill_request_duration_seconds_bucket\{api="Produce",le="([0-9.e+-]+)"\} (\d+)', text)]
n = max(c for _, c in b)
p99 = min(le for le, c in b if c >= 0.99 * n)
within = {le: c for le, c in b}
print("broker_produce_requests=%d broker_p99_le_us=%g broker_within_1ms_pct=%.3f" % (
    n, p99 * 1e6, 100.0 * within.get(0.001, 0) / n))
PY
)
    echo "RESULT kind=brokertime target=rill-broker client=librdkafka size=$LAT_SIZE codec=none rep=$1 rc=0 | $line" >>"$RAW"
}

# store_round: storeprobe once per repetition, in the bench's work directory (the same
# filesystem rill-broker's data dirs are on).
store_round() {
    rep=1
    while [ $rep -le "$REPS" ]; do
        run_probe store machine storeprobe 0 none "$rep" "$STOREPROBE" "$WORK" 1024
        rep=$((rep + 1))
    done
}

# latency_round: rdlatency at LAT_RATE msgs/s for LAT_SECONDS against both targets.
latency_round() {
    rep=1
    while [ $rep -le "$REPS" ]; do
        for target in $(targets $rep); do
            topic="bench_lat_$rep"
            target_bs "$target" "$topic" --metrics 127.0.0.1:0 || continue
            run_probe latency "$target" librdkafka "$LAT_SIZE" none "$rep" \
                "$RDLATENCY" "$BS" "$topic" "$LAT_RATE" "$LAT_SECONDS" "$LAT_SIZE" acks=1 linger.ms=0
            if [ "$target" = rill-broker ]; then broker_time $rep; fi
        done
        rep=$((rep + 1))
    done
    stop_broker
}

# idle_rss WHEN: rill-broker's VmRSS after 2 s without traffic, as a RESULT line.
idle_rss() {
    sleep 2
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$BROKER_PID/status" 2>/dev/null || true)
    echo "RESULT kind=idle target=rill-broker client=$1 size=0 codec=none rep=1 rc=0 | idle_rss_kib=${rss:-unknown}" >>"$RAW"
    echo "bench: idle RSS of rill-broker ($1): ${rss:-unknown} KiB" >&2
}

# consume_round: for each value size, one fresh rill-broker holding COUNT messages
# (written once by librdkafka's producer), then REPS alternating reads of the whole
# topic from the beginning by librdkafka's consumer (rdconsume), `rill perf consume`
# (kind consume; both start their clock at the first message) and fetchprobe (kind
# fetch; its clock starts before the first request).  The broker's idle RSS after the
# last size is recorded.
consume_round() {
    for size in $SIZES; do
        stop_broker; start_broker || return 0
        topic=bench_consume_$size
        # shellcheck disable=SC2046
        run_probe fill rill-broker librdkafka "$size" none 0 \
            $(rdperf_cmd "$BROKER_BS" "$topic" "$size" none)
        rep=1
        while [ $rep -le "$REPS" ]; do
            if [ $((rep % 2)) -eq 1 ]; then order="librdkafka rill fetchprobe"
            else order="fetchprobe rill librdkafka"; fi
            for client in $order; do
                if [ "$client" = librdkafka ]; then
                    wants consume || continue
                    run_probe consume rill-broker librdkafka "$size" none "$rep" \
                        "$RDCONSUME" "$BROKER_BS" "$topic" "$COUNT"
                elif [ "$client" = rill ]; then
                    if ! wants consume || [ "$HAVE_RILL" = 0 ]; then continue; fi
                    run_probe consume rill-broker rill "$size" none "$rep" \
                        "$RILL" perf consume -b "$BROKER_BS" -t "$topic" -n "$COUNT"
                else
                    wants fetch || continue
                    run_probe fetch rill-broker fetchprobe "$size" none "$rep" \
                        "$FETCHPROBE" "$BROKER_BS" "$topic" 0 "$COUNT"
                fi
            done
            rep=$((rep + 1))
        done
    done
    if wants idle; then idle_rss after-load; fi
    stop_broker
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

if [ "$HAVE_BROKER" = 1 ] && ! broker_smoke; then HAVE_BROKER=0; fi
if wants idle && [ "$HAVE_BROKER" = 1 ] && start_broker; then
    idle_rss fresh
    stop_broker
fi
if wants store && [ -x "$STOREPROBE" ]; then store_round; fi
if wants produce; then produce_round; fi
if wants acksall; then acksall_round; fi
if wants latency; then latency_round; fi
if [ "$HAVE_BROKER" = 1 ] && { wants consume || wants fetch || wants idle; }; then consume_round; fi
stop_broker

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)
rdver=$(sed -n 's/.*| librdkafka \([0-9][0-9.]*\).*/librdkafka \1/p' "$RAW" | head -n 1)
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: $(nproc) cores, ${cpu:-unknown}, $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "anchor: ${rdver:-librdkafka (no successful run)} (Debian package), bench/rdperf.c and bench/rdconsume.c"
    echo "rill: $([ "$HAVE_RILL" = 1 ] && echo "build/rill perf produce, build/rill perf consume" || echo "not built: skipped")"
    echo "brokers: librdkafka mock cluster (1 broker, in memory, topic of 1 partition)$([ "$HAVE_BROKER" = 1 ] && echo "; rill-broker (fresh data dir per run)")"
    echo "settings: $COUNT messages per run, values of $(echo "$SIZES" | sed 's/ / and /') bytes ('x' repeated, no key), compression $(echo "$CODECS" | sed 's/ / and /'), $SETTINGS; acks=all runs: compression none, $ALL_SETTINGS"
    echo "latency: rdlatency at $LAT_RATE msgs/s for $LAT_SECONDS s, $LAT_SIZE B values, acks=1 linger.ms=0, one partition"
    echo "kinds: $KINDS"
    echo "load average (1, 5, 15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; each raw line shows the 1-minute figure before its run"
    echo "repetitions: $REPS"
} >"$META"

/usr/bin/python3 "$SRC/bench/compare.py" --raw "$RAW" --meta "$META" --commands "$CMDS" \
    --notes "$NOTES" --out "$OUT"
echo "bench: wrote $OUT" >&2
