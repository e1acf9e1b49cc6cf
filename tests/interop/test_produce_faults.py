"""test_produce_faults -- `rill produce` under faults, against librdkafka's mock cluster.

Issue 2: while 100k numbered messages are produced with idempotence on, partition
leaders move, a broker goes down and comes back, and retriable errors are injected;
afterwards every message is present exactly once and in order per partition.
Injected non-retriable errors reach the delivery reports (exit 1 and the error
named on stderr); an unreachable bootstrap fails within delivery.timeout.ms.
"""

import subprocess
import threading
import time

import pytest

import helpers

N_FAULT = 100000


def feed_slowly(proc, lines, seconds, errors):
    """Writes lines to proc's stdin spread over `seconds`, then closes it."""
    try:
        chunks = 100
        per = (len(lines) + chunks - 1) // chunks
        for i in range(chunks):
            proc.stdin.write(b"".join(lines[i * per:(i + 1) * per]))
            proc.stdin.flush()
            time.sleep(seconds / chunks)
        proc.stdin.close()
    except (BrokenPipeError, OSError, ValueError) as e:
        errors.append(e)


def check_exactly_once_in_order(bootstrap, topic, n, keyed):
    got = helpers.consume_all(bootstrap, topic, n, timeout=20, settle=1.0)
    values = [int(r.value.split(b"=")[-1]) for r in got]
    dups = len(values) - len(set(values))
    missing = sorted(set(range(n)) - set(values))
    assert dups == 0 and not missing, "%d duplicates, %d missing (first %s)" % (
        dups, len(missing), missing[:10])
    for p in sorted({r.partition for r in got}):
        seq = [int(r.value.split(b"=")[-1]) for r in got if r.partition == p]
        assert seq == sorted(seq), "partition %d out of order" % p
    wm = helpers.watermarks(bootstrap, topic)
    assert sum(hi - lo for lo, hi in wm.values()) == n, wm
    assert all(lo == 0 for lo, _ in wm.values()), "mock log truncated: %s" % wm
    if keyed:
        # Keys were spread by the partitioner, so more than one partition was used.
        assert len({r.partition for r in got}) > 1


@pytest.mark.parametrize("keyed", [False, True])
def test_100k_idempotent_under_leader_moves_broker_bounce_and_errors(mock_cluster, keyed,
                                                                     tmp_path):
    helpers.require_binary(helpers.rill_cli_path(), "rill CLI")
    mc = mock_cluster(3)
    topic = "faults_keyed" if keyed else "faults"
    mc.create_topic(topic, 4, 3)
    for p in range(4):
        mc.set_leader(topic, p, 1 + p % 3)
    if keyed:
        lines = [b"k%d=%d\n" % (i % 97, i) for i in range(N_FAULT)]
    else:
        lines = [b"%d\n" % i for i in range(N_FAULT)]
    argv = [helpers.rill_cli_path(), "produce", "-t", topic, "-b", mc.bootstrap,
            "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5",
            "-X", "retry.backoff.ms=50", "-X", "request.timeout.ms=3000",
            "-X", "delivery.timeout.ms=30000"]
    if keyed:
        argv[2:2] = ["-K", "="]
    err_path = tmp_path / "stderr"
    with open(err_path, "wb") as err_file:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=err_file)
    feed_errors = []
    feeder = threading.Thread(target=feed_slowly, args=(proc, lines, 10.0, feed_errors),
                              daemon=True)
    feeder.start()
    try:
        # The fault script runs while the lines are still being fed (about 10 s).
        steps = [
            (1.0, lambda: mc.set_leader(topic, 0, 2)),
            (1.5, lambda: mc.push_errors("produce", "NOT_LEADER_OR_FOLLOWER", 5)),
            (2.5, lambda: mc.set_leader(topic, 1, 3)),
            (3.0, lambda: mc.push_errors("produce", "REQUEST_TIMED_OUT", 3)),
            (3.5, lambda: mc.down(2)),                       # leader of 0 (and 1+) goes away
            (4.5, lambda: mc.set_leader(topic, 0, 3)),       # ...and partition 0 moves off it
            (5.5, lambda: mc.up(2)),
            (6.0, lambda: mc.push_errors("produce", "_TRANSPORT", 2)),   # forced disconnects
            (6.5, lambda: mc.push_errors("produce", "NOT_ENOUGH_REPLICAS", 3)),
            (7.0, lambda: mc.rtt(3, 4000)),                  # responses slower than the timeout:
            (8.5, lambda: mc.rtt(3, 0)),                     # appended, not acknowledged, resent
            (9.0, lambda: mc.set_leader(topic, 2, 1)),
            (9.5, lambda: mc.set_leader(topic, 0, 1)),
        ]
        t0 = time.monotonic()
        for at, action in steps:
            time.sleep(max(0.0, at - (time.monotonic() - t0)))
            action()
        feeder.join(timeout=60)             # every line written before stdin is closed
        assert not feeder.is_alive(), "feeding stdin stalled"
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert not feed_errors, feed_errors
    assert proc.returncode == 0, err_path.read_text(errors="replace")[-3000:]
    check_exactly_once_in_order(mc.bootstrap, topic, N_FAULT, keyed)


@pytest.mark.parametrize("err,names", [
    ("TOPIC_AUTHORIZATION_FAILED", ["TOPIC_AUTHORIZATION_FAILED", "topic authorization"]),
    ("MSG_SIZE_TOO_LARGE", ["MESSAGE_TOO_LARGE", "MSG_SIZE_TOO_LARGE", "too large"]),
    ("INVALID_RECORD", ["INVALID_RECORD", "invalid record"]),
])
def test_non_retriable_errors_reach_the_cli(mock_cluster, rill_cli, err, names):
    mc = mock_cluster(1)
    mc.create_topic("nonretr", 1, 1)
    mc.push_errors("produce", err, 100)      # whatever batching, every request fails
    lines = b"".join(b"line %d\n" % i for i in range(20))
    t0 = time.monotonic()
    r = rill_cli(["produce", "-t", "nonretr", "-b", mc.bootstrap, "-X", "linger.ms=0",
                  "-X", "enable.idempotence=false", "-X", "acks=1"], input=lines, timeout=60)
    assert r.returncode == 1, r.stderr
    text = r.stderr.decode(errors="replace").lower()
    assert any(n.lower() in text for n in names), text
    assert "20 of 20" in text, text          # every message accounted for as failed
    assert time.monotonic() - t0 < 30         # non-retriable: no waiting for a timeout
    mc.cmd("clear_errors produce")
    wm = helpers.watermarks(mc.bootstrap, "nonretr")
    assert wm == {0: (0, 0)}, wm


def test_retriable_errors_are_retried_transparently(mock_cluster, rill_cli):
    mc = mock_cluster(1)
    mc.create_topic("retr", 1, 1)
    mc.push_errors("produce", "NOT_LEADER_OR_FOLLOWER", 2)
    mc.push_errors("produce", "REQUEST_TIMED_OUT", 2)
    mc.push_errors("metadata", "LEADER_NOT_AVAILABLE", 1)
    lines = [b"%d" % i for i in range(500)]
    r = rill_cli(["produce", "-t", "retr", "-b", mc.bootstrap, "-X", "retry.backoff.ms=20"],
                 input=b"\n".join(lines) + b"\n", timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = helpers.consume_all(mc.bootstrap, "retr", 500, timeout=30, settle=0.5)
    assert [rec.value for rec in got] == lines


@pytest.mark.parametrize("extra", [[], ["-X", "enable.idempotence=false", "-X", "acks=1"]])
def test_unreachable_bootstrap_fails_within_delivery_timeout(rill_cli, extra):
    port = helpers.closed_port()
    t0 = time.monotonic()
    r = rill_cli(["produce", "-t", "nowhere", "-b", "127.0.0.1:%d" % port,
                  "-X", "delivery.timeout.ms=3000"] + extra,
                 input=b"".join(b"m%d\n" % i for i in range(10)), timeout=30)
    elapsed = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert elapsed < 15, "took %.1f s with delivery.timeout.ms=3000" % elapsed
    assert elapsed >= 2.5, "gave up after %.1f s, before delivery.timeout.ms" % elapsed
    text = r.stderr.decode(errors="replace")
    assert "10 of 10" in text, text


def test_broker_down_for_good_fails_within_delivery_timeout(mock_cluster, rill_cli):
    """A cluster that goes away mid-run: bounded failure, no hang, exit 1."""
    mc = mock_cluster(1)
    mc.create_topic("gone", 1, 1)
    ok = rill_cli(["produce", "-t", "gone", "-b", mc.bootstrap], input=b"first\n", timeout=30)
    assert ok.returncode == 0, ok.stderr
    mc.down(1)
    t0 = time.monotonic()
    r = rill_cli(["produce", "-t", "gone", "-b", mc.bootstrap, "-X", "delivery.timeout.ms=3000"],
                 input=b"second\nthird\n", timeout=30)
    assert r.returncode == 1
    assert time.monotonic() - t0 < 15
