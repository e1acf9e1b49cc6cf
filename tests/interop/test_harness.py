"""test_harness -- proves the interop harness itself works, before the product does.

Drives tests/tools/mockcluster (librdkafka's mock cluster) with librdkafka's
own clients (confluent_kafka, kcat): topics made through the command channel,
messages read back byte for byte by both readers, leader moves, brokers going
down and up, injected errors that librdkafka visibly reacts to.  Also checks
the process helpers (RillBroker, run_cli) against stand-in programs, so that
their parsing, timeouts and restarts are known good when the real binaries land.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import helpers
from helpers import HarnessError, MockClusterError

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient


def sample_messages(n_keyed=30):
    """Binary-hostile payloads: NUL, newlines, high bytes, empty and null keys/values."""
    msgs = []
    for i in range(n_keyed):
        msgs.append(dict(key=b"key-%d\x00\n" % i,
                         value=bytes(range(256))[i:] + b"\n\r\x00" + b"v%d" % i,
                         headers=[("h1", b"a\x00b%d" % i), ("empty", b""), ("null", None)]))
    msgs.append(dict(key=None, value=None, partition=0))          # tombstone, no key
    msgs.append(dict(key=b"", value=b"", partition=1))            # empty, not null
    msgs.append(dict(key=None, value=b"x" * 100000, partition=2))  # larger than one line
    return msgs


def expected_by_position(msgs, reports):
    """{(partition, offset): message} from confluent's delivery reports."""
    out = {}
    for m, (err, part, off) in zip(msgs, reports):
        assert err is None, err
        out[(part, off)] = m
    return out


# --------------------------------------------------------------------------
# The mock cluster process and its command channel
# --------------------------------------------------------------------------

@pytest.mark.parametrize("brokers", [1, 3])
def test_mock_cluster_listens_on_loopback_only(mock_cluster, brokers):
    mc = mock_cluster(brokers)
    assert sorted(mc.brokers) == list(range(1, brokers + 1))
    for addr in mc.brokers.values():
        host, port = addr.rsplit(":", 1)
        assert host == "127.0.0.1"
        socket.create_connection((host, int(port)), timeout=5).close()
    # The listening sockets of the process are bound to 127.0.0.1, not 0.0.0.0.
    ports = {int(a.rsplit(":", 1)[1]) for a in mc.brokers.values()}
    bound = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            ip_hex, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) in ports:  # LISTEN
                bound.add((ip_hex, int(port_hex, 16)))
    assert {ip for ip, _ in bound} == {"0100007F"}, bound
    assert {p for _, p in bound} == ports
    # Broker ids in metadata match the order of the BOOTSTRAP line.
    a = AdminClient({"bootstrap.servers": mc.bootstrap, "log_level": 3})
    md = a.list_topics(timeout=10)
    assert {b.id: "%s:%d" % (b.host, b.port) for b in md.brokers.values()} == mc.brokers


def test_command_channel_answers_and_rejects(mock_cluster):
    mc = mock_cluster(3)
    assert mc.cmd("ping") == ""
    mc.create_topic("cmds", 4, 3)
    mc.set_leader("cmds", 3, 2)
    mc.rtt(1, 0)
    mc.push_errors("produce", "NOT_LEADER_OR_FOLLOWER", 2)
    mc.cmd("clear_errors produce")
    mc.broker_errors(2, "produce", "REQUEST_TIMED_OUT", rtt_ms=5, count=2)
    mc.cmd("coordinator group g1 2")
    mc.cmd("coordinator txn tx1 3")
    mc.cmd("topic_error cmds 0")
    for bad in ["bogus", "topic", "topic x 0 1", "topic x 1 4", "leader cmds 0 9",
                "down 0", "down x", "rtt 1 -5", "error produce NO_SUCH_ERROR",
                "error nosuchapi 6", "coordinator shop g 1",
                "broker_error -1 produce 6", "partition_error cmds 0 6",
                "a b c d e f g h i j"]:
        with pytest.raises(MockClusterError):
            mc.cmd(bad)
    ok, text = mc.try_cmd("partition_error cmds 0 6")
    assert not ok and "2.0.2" in text
    # Still alive and in step after all the errors.
    assert mc.try_cmd("ping") == (True, "")


def test_mock_cluster_exits_on_stdin_close_and_sigterm(mock_cluster):
    mc = mock_cluster(1)
    t0 = time.monotonic()
    assert mc.close() == 0
    assert time.monotonic() - t0 < 5
    mc2 = mock_cluster(3)
    mc2.proc.send_signal(signal.SIGTERM)
    assert mc2.proc.wait(timeout=5) == 0
    with pytest.raises(HarnessError):
        mc2.cmd("ping")


# --------------------------------------------------------------------------
# Producing and reading back, byte for byte, with two readers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("brokers", [1, 3])
def test_produce_and_read_back_byte_for_byte(mock_cluster, brokers):
    mc = mock_cluster(brokers)
    mc.create_topic("rb", 3, min(brokers, 3))
    msgs = sample_messages()
    reports = helpers.confluent_produce(mc.bootstrap, "rb", msgs, conf={"linger.ms": 5})
    want = expected_by_position(msgs, reports)

    got = helpers.consume_all(mc.bootstrap, "rb", len(msgs), timeout=30, settle=0.3)
    assert len(got) == len(msgs)
    for rec in got:
        m = want[(rec.partition, rec.offset)]
        assert rec.key == m.get("key")
        assert rec.value == m.get("value")
        assert rec.headers == list(m.get("headers") or [])
        assert rec.timestamp > 0

    kc = helpers.kcat_consume(mc.bootstrap, "rb", len(msgs), timeout=30)
    assert [(r.partition, r.offset, r.key, r.value, r.timestamp) for r in kc] == \
           [(r.partition, r.offset, r.key, r.value, r.timestamp) for r in got]

    wm = helpers.watermarks(mc.bootstrap, "rb")
    assert sum(hi - lo for lo, hi in wm.values()) == len(msgs)
    assert all(lo == 0 for lo, _ in wm.values())


def test_consume_all_fails_clearly_when_short(mock_cluster):
    mc = mock_cluster(1)
    mc.create_topic("short", 1, 1)
    helpers.confluent_produce(mc.bootstrap, "short", [dict(value=b"only one")])
    with pytest.raises(HarnessError, match="1 of 2 messages"):
        helpers.consume_all(mc.bootstrap, "short", 2, timeout=2)
    assert len(helpers.consume_all(mc.bootstrap, "short", 2, timeout=1, strict=False)) == 1
    with pytest.raises(HarnessError, match="1 of 2"):
        helpers.kcat_consume(mc.bootstrap, "short", 2, timeout=20)


def test_kcat_output_parser():
    data = (b"0 5 1700000000000 3 2\nk\n\x00v\n\n"
            b"1 0 -1 -1 -1\n\n"
            b"2 7 1 0 0\n\n")
    recs = helpers.parse_kcat_output(data)
    assert recs == [helpers.Record(0, 5, b"k\n\x00", b"v\n", None, 1700000000000),
                    helpers.Record(1, 0, None, None, None, -1),
                    helpers.Record(2, 7, b"", b"", None, 1)]
    with pytest.raises(HarnessError):
        helpers.parse_kcat_output(b"0 0 0 5 0\nab\n")


# --------------------------------------------------------------------------
# Faults the mock cluster injects, seen by librdkafka
# --------------------------------------------------------------------------

def leader_of(bootstrap, topic, partition):
    a = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    return a.list_topics(topic, timeout=10).topics[topic].partitions[partition].leader


def test_leader_move_and_broker_down_up(mock_cluster):
    mc = mock_cluster(3)
    mc.create_topic("moves", 2, 3)
    mc.set_leader("moves", 0, 1)
    assert leader_of(mc.bootstrap, "moves", 0) == 1
    mc.set_leader("moves", 0, 3)
    assert leader_of(mc.bootstrap, "moves", 0) == 3

    p = ck.Producer({"bootstrap.servers": mc.bootstrap, "log_level": 3, "linger.ms": 1,
                     "enable.idempotence": True, "message.timeout.ms": 30000})
    results = []
    cb = lambda err, msg: results.append((err, msg.partition(), msg.value()))  # noqa: E731
    for i in range(200):
        p.produce("moves", value=b"%d" % i, partition=0, on_delivery=cb)
    assert p.flush(20) == 0

    # The leader goes down: nothing can be delivered while it is down...
    mc.down(3)
    for i in range(200, 300):
        p.produce("moves", value=b"%d" % i, partition=0, on_delivery=cb)
    p.flush(1.5)
    delivered_while_down = sum(1 for e, _, v in results if int(v) >= 200)
    assert delivered_while_down == 0
    # ...and everything is once it comes back.
    mc.up(3)
    assert p.flush(25) == 0
    assert all(err is None for err, _, _ in results), [r for r in results if r[0]]

    got = helpers.consume_all(mc.bootstrap, "moves", 300, partitions=[0], timeout=30, settle=0.3)
    assert [int(r.value) for r in got] == list(range(300))


def test_injected_errors_are_seen_by_librdkafka(mock_cluster):
    mc = mock_cluster(1)
    mc.create_topic("errs", 1, 1)

    def produce_one(value, **conf):
        return helpers.confluent_produce(mc.bootstrap, "errs", [dict(value=value)],
                                         conf=dict({"linger.ms": 0}, **conf), timeout=10)[0]

    # A non-retriable error reaches the delivery report of the message...
    mc.push_errors("produce", "TOPIC_AUTHORIZATION_FAILED", 1)
    err, _, _ = produce_one(b"denied")
    assert err is not None and err.code() == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    # ...and the stack is used up: the next message goes through.
    assert produce_one(b"ok-1")[0] is None

    # Retriable errors with retries=0: the first one is reported.
    mc.push_errors("produce", "REQUEST_TIMED_OUT", 1)
    err, _, _ = produce_one(b"no-retry", retries=0, **{"enable.idempotence": False})
    assert err is not None and err.code() == ck.KafkaError.REQUEST_TIMED_OUT

    # With retries the producer rides over several of them and delivers once.
    mc.push_errors("produce", "NOT_LEADER_OR_FOLLOWER", 3)
    err, _, off = produce_one(b"retried", **{"enable.idempotence": True, "retry.backoff.ms": 10})
    assert err is None

    # A forced disconnect on Produce (librdkafka's _TRANSPORT) is retried too.
    mc.push_errors("produce", "_TRANSPORT", 1)
    assert produce_one(b"after-disconnect", **{"enable.idempotence": True})[0] is None

    got = helpers.consume_all(mc.bootstrap, "errs", 3, timeout=20, settle=0.5)
    assert [r.value for r in got] == [b"ok-1", b"retried", b"after-disconnect"]


def test_broker_rtt_delays_responses(mock_cluster):
    mc = mock_cluster(1)
    mc.create_topic("slow", 1, 1)
    helpers.confluent_produce(mc.bootstrap, "slow", [dict(value=b"warm")])
    mc.rtt(1, 400)
    t0 = time.monotonic()
    assert helpers.confluent_produce(mc.bootstrap, "slow", [dict(value=b"late")],
                                     conf={"linger.ms": 0})[0][0] is None
    assert time.monotonic() - t0 >= 0.4


# --------------------------------------------------------------------------
# Process helpers, checked against stand-in programs
# --------------------------------------------------------------------------

FAKE_BROKER = r"""
import socket, sys, time, signal
args = sys.argv[1:]
listen = args[args.index("--listen") + 1]
host, port = listen.rsplit(":", 1)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, int(port))); s.listen(5)
print("noise before", flush=True)
print("INFO server: listening on %s:%d" % s.getsockname(), file=sys.stderr, flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(0.1)
"""


def _fake_program(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!%s\n%s" % (sys.executable, body))
    path.chmod(0o755)
    return str(path)


def test_rill_broker_helper_with_stand_in(tmp_path, monkeypatch, rill_broker):
    monkeypatch.setenv("RILL_BROKER_BIN", _fake_program(tmp_path, "fake-broker", FAKE_BROKER))
    b = rill_broker("--log-level", "debug")
    host, port = b.bootstrap.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    socket.create_connection((host, int(port)), timeout=5).close()
    assert "--data-dir" in b.argv and os.path.isdir(b.data_dir)
    assert b.argv[-2:] == ["--log-level", "debug"]
    old = b.bootstrap
    b.restart()
    assert b.bootstrap == old and b.running
    assert b.kill(signal.SIGKILL) == -signal.SIGKILL
    assert not b.running
    assert "noise before" in b.output()


def test_rill_broker_helper_reports_missing_binary_and_silence(tmp_path, monkeypatch):
    monkeypatch.setenv("RILL_BROKER_BIN", str(tmp_path / "does-not-exist"))
    with pytest.raises(HarnessError, match="rill-broker not found"):
        helpers.RillBroker(str(tmp_path / "d"))
    silent = _fake_program(tmp_path, "silent", "import time\ntime.sleep(30)\n")
    monkeypatch.setenv("RILL_BROKER_BIN", silent)
    t0 = time.monotonic()
    with pytest.raises(HarnessError, match="listening on"):
        helpers.RillBroker(str(tmp_path / "d"), start_timeout=1)
    assert time.monotonic() - t0 < 6


def test_run_cli_with_stand_in(tmp_path, monkeypatch):
    monkeypatch.setenv("RILL_CLI", "/bin/cat")
    r = helpers.run_cli(["-"], input=b"a\x00b\n")
    assert r.returncode == 0 and r.stdout == b"a\x00b\n"
    monkeypatch.setenv("RILL_CLI", "/bin/sleep")
    t0 = time.monotonic()
    with pytest.raises(HarnessError, match="did not finish"):
        helpers.run_cli(["30"], timeout=0.5)
    assert time.monotonic() - t0 < 5
    monkeypatch.setenv("RILL_CLI", str(tmp_path / "nope"))
    with pytest.raises(HarnessError, match="rill CLI not found"):
        helpers.run_cli(["produce"])


def test_closed_port_refuses():
    port = helpers.closed_port()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_wait_for_is_bounded():
    t0 = time.monotonic()
    with pytest.raises(HarnessError, match="never"):
        helpers.wait_for(lambda: False, 0.3, what="never")
    assert time.monotonic() - t0 < 2
    assert helpers.wait_for(lambda: 42, 1) == 42


def test_mockcluster_binary_rejects_bad_arguments():
    exe = helpers.require_binary(helpers.mockcluster_path(), "mockcluster")
    for argv in (["--brokers", "0"], ["--brokers", "x"], ["--what"]):
        r = subprocess.run([exe] + argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        assert r.returncode == 2 and b"usage" in r.stderr


def test_bench_compare_parses_both_line_shapes(tmp_path):
    """bench/compare.py reads rdperf's and `rill perf produce`'s lines (issue 2's shape)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bench_compare", os.path.join(helpers.source_dir(), "bench", "compare.py"))
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    tag = "RESULT kind=produce target=mock client=%s size=100 codec=none rep=%d rc=%d | "
    rd = ("librdkafka 2.0.2: 2000000 msgs x 100 B in 1.000 s: %d msgs/s 100.0 MB/s cpu=0.900 s "
          "(%d ns/msg) maxrss=%d KiB delivered=2000000 failed=0")
    rl = ("2000000 msgs x 100 B in 0.500 s: %d msgs/s 200.0 MB/s cpu=0.600 s (%d ns/msg) "
          "maxrss=%d KiB delivered=2000000 failed=%d")
    raw = [tag % ("librdkafka", 1, 0) + rd % (1000000, 450, 20000),
           tag % ("librdkafka", 2, 0) + rd % (3000000, 400, 19000),
           tag % ("librdkafka", 3, 0) + rd % (2000000, 500, 21000),
           tag % ("rill", 1, 0) + rl % (4000000, 300, 8000, 0),
           tag % ("rill", 2, 0) + rl % (3000000, 200, 9000, 0),
           tag % ("rill", 3, 1) + rl % (9000000, 1, 1, 5),       # failed: left out
           tag % ("rill", 4, 0) + "no result line; stderr: boom"]  # failed: left out
    runs = compare.parse_runs(raw)
    assert [r["ok"] for r in runs] == [True] * 5 + [False, False]
    text = compare.render(runs, {"repetitions": "3"}, ["cmd a", "cmd a"], ["a note"])
    # Medians: librdkafka 2,000,000 msgs/s 450 ns 20,000 KiB; rill 3,500,000 / 250 / 8,500.
    assert "| 100 B | none | librdkafka | 2,000,000 | 100.0 | 450 | 20,000 | 3/3 |" in text
    assert "| 100 B | none | rill | 3,500,000 | 200.0 | 250 | 8,500 | 2/4 |" in text
    assert "| 100 B | none | 1.75× | ≥ 1.5× | 0.56× | 0.42× | yes |" in text
    assert "a note" in text and "## Failed runs" in text and "boom" in text


def test_bench_compare_broker_bars(tmp_path):
    """bench/compare.py: issue 3's lines (acks=1 and acks=all ratios, latency, fetch, idle
    RSS) become the bars table, met or not."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bench_compare", os.path.join(helpers.source_dir(), "bench", "compare.py"))
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    rd = ("librdkafka 2.0.2: 1000 msgs x 1024 B in 1.000 s: %d msgs/s 1.0 MB/s cpu=0.900 s "
          "(900 ns/msg) maxrss=1000 KiB delivered=1000 failed=0")
    lat = ("librdkafka 2.0.2 latency: 1000 msgs x 100 B in 1.000 s: 1000 msgs/s 0.1 MB/s "
           "cpu=0.1 s (100 ns/msg) maxrss=1 KiB delivered=1000 failed=0 p50_us=%s p99_us=%s "
           "p999_us=900.0 max_us=2000.0")
    fp = ("fetchprobe: 1000 msgs x 1100 B in 1.000 s: 1000 msgs/s %s MB/s cpu=0.1 s "
          "(100 ns/msg) maxrss=1 KiB delivered=1000 failed=0")
    t = "RESULT kind=%s target=%s client=%s size=%s codec=none rep=%d rc=0 | "
    raw = [t % ("produce", "mock", "librdkafka", 1024, 1) + rd % 400,
           t % ("produce", "rill-broker", "librdkafka", 1024, 1) + rd % 500,
           t % ("acksall", "mock", "librdkafka", 1024, 1) + rd % 400,
           t % ("acksall", "rill-broker", "librdkafka", 1024, 1) + rd % 100,
           t % ("latency", "mock", "librdkafka", 100, 1) + lat % ("200.0", "400.0"),
           t % ("latency", "rill-broker", "librdkafka", 100, 1) + lat % ("80.0", "300.0"),
           t % ("latency", "rill-broker", "librdkafka", 100, 2) + lat % ("90.0", "1500.0"),
           t % ("latency", "rill-broker", "librdkafka", 100, 3) + lat % ("70.0", "500.0"),
           t % ("brokertime", "rill-broker", "librdkafka", 100, 1)
           + "broker_produce_requests=900 broker_p99_le_us=100 broker_within_1ms_pct=99.990",
           t % ("brokertime", "rill-broker", "librdkafka", 100, 2)
           + "broker_produce_requests=900 broker_p99_le_us=250 broker_within_1ms_pct=100.000",
           t % ("fetch", "rill-broker", "fetchprobe", 1024, 1) + fp % "2100.4",
           t % ("store", "machine", "storeprobe", 0, 1) + "storeprobe: 1024 MiB: fresh_gbs=0.80 "
           "fresh_cpu_s=1.30 warm_gbs=6.80 direct_gbs=0.70 anon_gbs=1.10",
           t % ("store", "machine", "storeprobe", 0, 2) + "storeprobe: 1024 MiB: fresh_gbs=1.20 "
           "fresh_cpu_s=0.90 warm_gbs=7.20 direct_gbs=0.60 anon_gbs=1.30",
           t % ("idle", "rill-broker", "fresh", 0, 1) + "idle_rss_kib=4000",
           t % ("idle", "rill-broker", "after-load", 0, 1) + "idle_rss_kib=unknown"]
    runs = compare.parse_runs(raw)
    assert [r["ok"] for r in runs] == [True] * 14 + [False]
    text = compare.render(runs, {"repetitions": "1"}, [], [])
    assert "| produce, acks=1, 1 KiB none: rill-broker / mock msgs/s | 1.25× | ≥ 1.0× | yes |" in text
    assert ("| produce, acks=all + fsync, 1 KiB none: rill-broker / mock msgs/s | 0.25× | "
            "≥ 0.5× | no |") in text
    # The median of the runs' p99s: 300, 500, 1500 -> 500.
    assert "rill-broker (median of runs) | 500 µs | < 1,000 µs | yes |" in text
    assert "| 300, 1,500, 500 |" in text
    assert "own Produce handling, p99 (its --metrics, worst run) | ≤ 250 µs |" in text
    assert "p99 within 100, 250 µs" in text and "99.99% of requests within 1 ms" in text
    assert "| new page cache (a new file) | 1.00 | 0.80, 1.20 |" in text
    assert "| the disk (O_DIRECT, one write at a time) | 0.65 | 0.70, 0.60 |" in text
    assert "every GB a broker keeps takes 1.00 s of copying" in text
    assert "| fetch, 1 KiB messages, fetchprobe (raw Fetch reader) | 2,100 MB/s | ≥ 1,000 MB/s | yes |" in text
    assert "| idle RSS of rill-broker (fresh) | 4,000 KiB | < 16,384 KiB | yes |" in text
    assert "| idle RSS of rill-broker (after-load) | — KiB | < 16,384 KiB | — |" in text
