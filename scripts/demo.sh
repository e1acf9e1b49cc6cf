#!/bin/sh
# demo.sh -- the first run: start a throw-away rill-broker on a free local
# port, then do the four steps of the first program every Kafka user writes
# (create a producer, define a topic, send messages, read them back with a
# consumer group), printing what happens, and stop the broker.
set -eu
cd "$(dirname "$0")/.."
B=${RILL_BUILD_DIR:-build}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/rill-demo.XXXXXX")
LOG="$DATA.log"
BROKER_PID=

cleanup() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA" "$LOG"
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }

step "Starting rill-broker (data in a throw-away directory)"
"$B/rill-broker" --listen 127.0.0.1:0 --data-dir "$DATA" --log-level warn >"$LOG" 2>&1 &
BROKER_PID=$!
ADDR=
i=0
while [ $i -lt 100 ]; do
    ADDR=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$LOG" | head -n 1)
    [ -n "$ADDR" ] && break
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
        cat "$LOG" >&2
        echo "demo: rill-broker did not start" >&2
        exit 1
    fi
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$ADDR" ]; then
    echo "demo: rill-broker did not report its address" >&2
    exit 1
fi
echo "rill-broker is listening on $ADDR"

step "1-3. Create a producer, define topic 'test', send messages (examples/producer.c)"
"$B/examples/producer" "$ADDR" test "message" "hello from rill" "the third message"

step "4. Read them back as a member of consumer group 'demo' (examples/consumer.c)"
"$B/examples/consumer" "$ADDR" test demo 3

step "Stopping rill-broker"
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" && echo "rill-broker stopped cleanly" || echo "rill-broker exited with $?"
BROKER_PID=
echo
echo "Done. Next: 'make test' runs every test; see README.md for the rill tool and the C API."
