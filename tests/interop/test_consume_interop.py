"""test_consume_interop -- librill's consumer reads, byte for byte, what other clients wrote.

Issue 4, "How it is checked": what kcat, kafka-python, librdkafka (confluent_kafka) and
librill itself (build/tests/produce_probe and `rill produce`) produced, with every codec
(none gzip snappy lz4 zstd), read back by librill's consumer (build/tests/consume_probe, and
`rill consume` for the same topic) with keys, values, null keys and values, empty ones,
binary bytes, headers (binary, empty, null, repeated names) and timestamps intact, each
partition in produce order at offsets 0..n-1 (nothing lost, nothing twice).  Against
librdkafka's mock cluster and against rill-broker.  (Old v0/v1 message sets: neither
broker takes them from a producer any more; the unit tests read kafka-python's.)

The helpers here (Target, probe_read, ...) are shared by the other test_consume_* files.
"""

import subprocess
import time

import pytest

import helpers
from helpers import HarnessError

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
TARGETS = ["mock", "rill-broker"]
# Groups form at once on rill-broker (Kafka waits 3 s for more members by default).
BROKER_ARGS = ("-X", "group.initial.rebalance.delay.ms=0")


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

class Target:
    """The cluster a test runs against: librdkafka's mock cluster or rill-broker."""

    def __init__(self, kind, mock_cluster, rill_broker, brokers=1):
        self.kind = kind
        self.mc = self.broker = None
        if kind == "mock":
            self.mc = mock_cluster(brokers)
            self.bootstrap = self.mc.bootstrap
        else:
            self.broker = rill_broker(*BROKER_ARGS)
            self.bootstrap = self.broker.bootstrap

    def create_topic(self, name, partitions):
        if self.mc:
            self.mc.create_topic(name, partitions, 1)
            return
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
        a.create_topics([NewTopic(name, partitions, 1)])[name].result(15)
        helpers.wait_for(lambda: len(helpers.partitions_of(self.bootstrap, name)) == partitions,
                         15, what="topic %s in metadata" % name)


@pytest.fixture(params=TARGETS)
def target(request, mock_cluster, rill_broker):
    return Target(request.param, mock_cluster, rill_broker)


def consume_probe_path():
    return helpers.require_binary(helpers.build_path("tests", "consume_probe"),
                                  "consume_probe (tests/tools/consume_probe.c)")


def _unhex(field):
    if field == "-":
        return None
    if field == '""':
        return b""
    return bytes.fromhex(field)


def parse_probe_line(line):
    """A consume_probe MSG line -> helpers.Record (headers as [(name bytes, value)])."""
    w = line.split(" ")
    assert w[0] == "MSG", line
    nh = int(w[6])
    headers = []
    for h in w[7:7 + nh]:
        name, _, val = h.partition("=")
        headers.append((_unhex(name), _unhex(val)))
    return helpers.Record(int(w[1]), int(w[2]), _unhex(w[4]), _unhex(w[5]), headers, int(w[3]))


def probe_read(bootstrap, topic, count, partitions=(0,), group=None, conf=None, timeout=50):
    """Reads count messages with librill's consumer (consume_probe, assign from the
    beginning, or subscribe with group); returns Records sorted by (partition, offset)."""
    argv = [consume_probe_path(), bootstrap, topic, str(count)]
    if group:
        argv += ["-g", group]
    else:
        argv += ["-p", ",".join(str(p) for p in partitions)]
    for k, v in (conf or {}).items():
        argv += ["-X", "%s=%s" % (k, v)]
    r = helpers.run_program(argv, timeout=timeout)
    out = r.stdout.decode("utf-8", "replace").splitlines()
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0 or not out or out[-1] != "DONE %d" % count:
        raise HarnessError("consume_probe read %s of %d from %s (exit %d); stderr:\n%s"
                           % (out[-1] if out else "nothing", count, topic, r.returncode,
                              err[-3000:]))
    recs = [parse_probe_line(l) for l in out if l.startswith("MSG ")]
    recs.sort(key=lambda rec: (rec.partition, rec.offset))
    return recs


def cli_read(bootstrap, topic, count, extra=(), timeout=50):
    """Reads a topic with `rill consume -o beginning -e` in a binary-safe format."""
    r = helpers.run_cli(["consume", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                         "-f", "%p %o %T %K %S\\n%k%s\\n"] + list(extra), timeout=timeout)
    if r.returncode != 0:
        raise HarnessError("rill consume exited %d: %s"
                           % (r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    recs = helpers.parse_kcat_output(r.stdout)
    recs.sort(key=lambda rec: (rec.partition, rec.offset))
    if len(recs) != count:
        raise HarnessError("rill consume read %d of %d messages" % (len(recs), count))
    return recs


def hname(name):
    return name.encode() if isinstance(name, str) else name


def check_records(got, want, partitions, check_headers=True, check_ts=False):
    """got (Records by partition, offset) holds exactly want (dicts with key, value,
    headers, partition[, timestamp]): each partition in produce order at offsets 0..n-1."""
    for p in range(partitions):
        exp = [m for m in want if m["partition"] == p]
        have = [r for r in got if r.partition == p]
        assert [r.offset for r in have] == list(range(len(exp))), \
            "partition %d: offsets %s" % (p, [r.offset for r in have][:20])
        for i, (r, m) in enumerate(zip(have, exp)):
            assert r.key == m.get("key"), "p%d@%d key %r != %r" % (p, i, r.key, m.get("key"))
            assert r.value == m.get("value"), "p%d@%d value %r != %r" % (
                p, i, (r.value or b"")[:60], (m.get("value") or b"")[:60])
            if check_headers:
                assert r.headers == [(hname(n), v) for n, v in m.get("headers", [])], \
                    "p%d@%d headers %r" % (p, i, r.headers)
            if check_ts and "timestamp" in m:
                assert r.timestamp == m["timestamp"], "p%d@%d timestamp" % (p, i)
    assert len(got) == len(want)


def message_set(n=150, partitions=3, null_values=True, null_header_values=True):
    """Messages exercising every field: null/empty/binary keys and values, a few large
    values, headers with binary, empty, null values and a repeated name."""
    base_ts = int(time.time() * 1000) - 3600 * 1000
    msgs = []
    for i in range(n):
        key = None if i % 5 == 0 else (b"" if i % 13 == 1 else b"k-%d\x00\xff\n" % i)
        if null_values and i % 11 == 3:
            value = None
        elif i % 7 == 2:
            value = b""
        elif i % 29 == 5:
            value = bytes(range(256)) * 80 + b"big-%d" % i  # 20 KiB: compresses well
        else:
            value = bytes((i * 31 + j) & 0xFF for j in range(i % 60)) + b"|v%d" % i
        headers = [("bin", b"\x00\x01\xfe\xff"), ("empty", b""), ("bin", b"again-%d" % i)]
        if null_header_values:
            headers.append(("null", None))
        msgs.append(dict(key=key, value=value, headers=headers[:i % 5], partition=i % partitions,
                         timestamp=base_ts + i))
    return msgs


def kafka_python_producer(bootstrap, codec, api_version=(2, 5, 0), **kw):
    from kafka import KafkaProducer
    from kafka import codec as kcodec
    have = {"gzip": kcodec.has_gzip, "snappy": kcodec.has_snappy, "lz4": kcodec.has_lz4,
            "zstd": kcodec.has_zstd}
    if codec in have and not have[codec]():
        pytest.skip("kafka-python cannot %s here: install python3-snappy python3-lz4 "
                    "python3-zstandard (scripts/deps.sh)" % codec)
    return KafkaProducer(bootstrap_servers=bootstrap, api_version=api_version,
                         compression_type=None if codec == "none" else codec, linger_ms=5,
                         acks=1, **kw)


def kafka_python_produce(bootstrap, topic, msgs, codec, api_version=(2, 5, 0)):
    p = kafka_python_producer(bootstrap, codec, api_version)
    try:
        futs = []
        for m in msgs:
            kw = dict(key=m.get("key"), value=m.get("value"), partition=m["partition"],
                      timestamp_ms=m.get("timestamp"))
            if api_version >= (0, 11):
                kw["headers"] = [(n, v) for n, v in m.get("headers", [])]
            futs.append(p.send(topic, **kw))
        p.flush(30)
        for f in futs:
            f.get(timeout=30)
    finally:
        p.close(10)


def probe_produce(bootstrap, topic, msgs, codec):
    from probe import Probe
    pr = Probe(bootstrap, topic, conf={"compression.type": codec, "linger.ms": 5})
    try:
        for m in msgs:
            pr.produce(m.get("value"), key=m.get("key"),
                       headers=[(hname(n), v) for n, v in m.get("headers", [])],
                       partition=m["partition"])
        assert pr.flush() == "OK", pr.stderr_text()
        assert pr.finish() == 0, pr.stderr_text()
    finally:
        pr.close()


def text_set(n=120):
    """Lines for kcat -P / rill produce: keyed and unkeyed, empty values, non-ASCII bytes."""
    msgs = []
    for i in range(n):
        key = None if i % 4 == 0 else b"key-%d" % i
        # (an empty line with no key is skipped by kcat: no such message here)
        value = b"" if i % 9 == 5 and key else b"value %d \xc3\xa9\xff\x01 end" % i
        msgs.append(dict(key=key, value=value, partition=0))
    return msgs


def text_input(msgs, delim=b"\t"):
    return b"".join(((m["key"] + delim) if m["key"] is not None else b"") + m["value"] + b"\n"
                    for m in msgs)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("codec", CODECS)
def test_reads_librdkafka_every_codec(target, topic_name, codec):
    target.create_topic(topic_name, 3)
    msgs = message_set()
    reports = helpers.confluent_produce(target.bootstrap, topic_name, msgs,
                                        conf={"compression.type": codec, "linger.ms": 5})
    assert all(e is None for e, _, _ in reports), reports[:3]
    got = probe_read(target.bootstrap, topic_name, len(msgs), partitions=(0, 1, 2))
    check_records(got, msgs, 3, check_ts=True)
    # `rill consume` reads the same bytes.
    cli = cli_read(target.bootstrap, topic_name, len(msgs))
    assert [(r.partition, r.offset, r.key, r.value, r.timestamp) for r in cli] == \
        [(r.partition, r.offset, r.key, r.value, r.timestamp) for r in got]


@pytest.mark.parametrize("codec", CODECS)
def test_reads_kafka_python_every_codec(target, topic_name, codec):
    target.create_topic(topic_name, 3)
    # kafka-python refuses null header values and records with neither key nor value.
    msgs = message_set(n=120, null_header_values=False)
    for m in msgs:
        if m["key"] is None and m["value"] is None:
            m["key"] = b"kp"
    kafka_python_produce(target.bootstrap, topic_name, msgs, codec)
    got = probe_read(target.bootstrap, topic_name, len(msgs), partitions=(0, 1, 2))
    check_records(got, msgs, 3, check_ts=True)


@pytest.mark.parametrize("codec", CODECS)
def test_reads_librill_probe_every_codec(target, topic_name, codec):
    target.create_topic(topic_name, 3)
    msgs = message_set()
    probe_produce(target.bootstrap, topic_name, msgs, codec)
    got = probe_read(target.bootstrap, topic_name, len(msgs), partitions=(0, 1, 2))
    check_records(got, msgs, 3)


@pytest.mark.parametrize("codec", CODECS)
def test_reads_kcat_every_codec(target, topic_name, codec):
    target.create_topic(topic_name, 1)
    msgs = text_set()
    argv = ["kcat", "-P", "-b", target.bootstrap, "-t", topic_name, "-p", "0", "-K", "\t",
            "-H", "source=kcat", "-H", "bin=\xe9", "-H", "empty=", "-X", "log_level=3",
            "-X", "compression.codec=%s" % codec, "-X", "linger.ms=5"]
    r = subprocess.run(argv, input=text_input(msgs), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=40)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    hdrs = [("source", b"kcat"), ("bin", "\xe9".encode()), ("empty", b"")]
    for m in msgs:
        m["headers"] = hdrs
    got = probe_read(target.bootstrap, topic_name, len(msgs))
    check_records(got, msgs, 1)


def test_reads_kcat_null_values(target, topic_name):
    """kcat -Z sends an empty line as a null value (a tombstone)."""
    target.create_topic(topic_name, 1)
    r = subprocess.run(["kcat", "-P", "-b", target.bootstrap, "-t", topic_name, "-p", "0",
                        "-K", ":", "-Z", "-X", "log_level=3"], input=b"a:1\nb:\nc:3\n:\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=40)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = probe_read(target.bootstrap, topic_name, 4)
    assert [(r.key, r.value) for r in got] == [(b"a", b"1"), (b"b", None), (b"c", b"3"),
                                               (None, None)]


@pytest.mark.parametrize("codec", CODECS)
def test_reads_rill_produce_every_codec(target, topic_name, codec, rill_cli):
    target.create_topic(topic_name, 1)
    msgs = text_set()
    r = rill_cli(["produce", "-b", target.bootstrap, "-t", topic_name, "-p", "0", "-K", "\t",
                  "-H", "h=v", "-X", "compression.type=" + codec], input=text_input(msgs))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    for m in msgs:
        m["headers"] = [("h", b"v")]
    got = probe_read(target.bootstrap, topic_name, len(msgs))
    check_records(got, msgs, 1)
    cli = cli_read(target.bootstrap, topic_name, len(msgs))
    assert [(r.offset, r.key, r.value) for r in cli] == [(r.offset, r.key, r.value) for r in got]


def test_reads_from_a_given_offset_and_partition(target, topic_name, rill_cli):
    """`rill consume -p P -o N` starts exactly there; -o end waits for new messages."""
    target.create_topic(topic_name, 2)
    msgs = [dict(value=b"m%d" % i, partition=i % 2) for i in range(40)]
    helpers.confluent_produce(target.bootstrap, topic_name, msgs)
    r = rill_cli(["consume", "-b", target.bootstrap, "-t", topic_name, "-p", "1", "-o", "15",
                  "-e", "-f", "%p:%o:%s\\n"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert r.stdout.decode().splitlines() == ["1:%d:m%d" % (o, 2 * o + 1) for o in range(15, 20)]
    # -o end (the default) with -e: nothing old is printed.
    r = rill_cli(["consume", "-b", target.bootstrap, "-t", topic_name, "-e"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert r.stdout == b""


def test_many_partitions_large_batches(target, topic_name):
    """8 partitions, 20k messages through fetch responses of many batches: order per
    partition, every offset once."""
    target.create_topic(topic_name, 8)
    n = 20000
    msgs = [dict(key=b"%d" % i, value=b"%06d" % i * 8, partition=i % 8) for i in range(n)]
    helpers.confluent_produce(target.bootstrap, topic_name, msgs,
                              conf={"linger.ms": 20, "compression.type": "lz4"})
    got = probe_read(target.bootstrap, topic_name, n, partitions=range(8))
    check_records(got, msgs, 8, check_headers=False)

