"""test_broker_clients -- real Kafka clients against build/rill-broker.

The seed example (kafka-python's KafkaProducer, verbatim), then kafka-python,
confluent-kafka (librdkafka) and kcat producing with every compression codec
they can and reading back byte for byte with the other clients; acks 0, 1
and all; data surviving a broker restart; the idempotent producer.
"""

import os
import socket
import struct
import subprocess
import sys
import time

import pytest

import helpers
from test_broker_wire import rill_broker  # noqa: F401 (checks every broker stops cleanly)
from helpers import HarnessError

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]

SEED_EXAMPLE = """\
from kafka import KafkaProducer
producer = KafkaProducer(bootstrap_servers='localhost:9092')
topic = 'test'
producer.send(topic, b'message')
producer.close()
"""


def run_python(code, timeout=60):
    r = subprocess.run(["/usr/bin/python3", "-c", code], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def payloads(n, tag):
    """Binary-hostile values and keys: NUL, newlines, high bytes, empty, larger ones."""
    out = []
    for i in range(n):
        key = None if i % 7 == 0 else b"k-%d\x00\n" % i
        value = (bytes(range(256))[i % 256:] + b"\r\n\x00" + tag + b"-%d" % i) * (1 + i % 5)
        if i % 11 == 0:
            value = b""
        out.append((key, value))
    return out


def stored_codecs(broker, topic, partition=0):
    """The compression codecs (attributes & 7) of the batches in a partition's segments."""
    d = os.path.join(broker.data_dir, "%s-%d" % (topic, partition))
    codecs = set()
    for name in sorted(os.listdir(d)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        pos = 0
        while pos + 23 <= len(data):
            (length,) = struct.unpack_from(">i", data, pos + 8)
            (attrs,) = struct.unpack_from(">h", data, pos + 21)
            codecs.add(attrs & 7)
            pos += 12 + length
    return codecs


def kafka_python_has(codec):
    import kafka.codec as kc
    return codec == "none" or getattr(kc, "has_" + codec)()


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# --------------------------------------------------------------------------
# The seed example
# --------------------------------------------------------------------------

def test_seed_example_verbatim(rill_broker):
    """The project's first-run example, unmodified: localhost:9092, topic 'test'."""
    if not port_free(9092):
        pytest.skip("port 9092 is in use on this machine; the verbatim example needs it")
    b = rill_broker(port=9092)
    run_python(SEED_EXAMPLE)
    recs = helpers.kcat_consume(b.bootstrap, "test", expected_count=1)
    assert [r.value for r in recs] == [b"message"]
    assert recs[0].offset == 0


def test_seed_example_on_any_port(rill_broker):
    b = rill_broker()
    run_python(SEED_EXAMPLE.replace("localhost:9092", b.bootstrap))
    recs = helpers.consume_all(b.bootstrap, "test", 1)
    assert [(r.offset, r.value, r.key) for r in recs] == [(0, b"message", None)]


# --------------------------------------------------------------------------
# Every codec, every client
# --------------------------------------------------------------------------

@pytest.mark.parametrize("codec", CODECS)
def test_confluent_produce_codec_read_back_by_all(rill_broker, topic_name, codec):
    b = rill_broker()
    # (No null header values: confluent-kafka 1.7.0 mishandles the refcount of None when
    # it returns them, and the interpreter aborts at exit.)
    msgs = [dict(key=k, value=v, headers=[("h", b"x\x00%d" % i), ("empty", b"")])
            for i, (k, v) in enumerate(payloads(300, codec.encode()))]
    reports = helpers.confluent_produce(b.bootstrap, topic_name, msgs,
                                        conf={"compression.codec": codec, "acks": "all",
                                              "linger.ms": 20})
    assert all(err is None for err, _, _ in reports), reports[:3]
    assert [off for _, _, off in reports] == list(range(300))
    # librdkafka sends a codec's batches uncompressed to a broker that does not advertise
    # Produce v0 (confluentinc/librdkafka#4956): the stored batches show which happened.
    # (A batch that does not shrink is sent uncompressed: 0 may appear beside the codec.)
    stored = stored_codecs(b, topic_name)
    assert CODECS.index(codec) in stored and stored <= {0, CODECS.index(codec)}, stored

    got = helpers.consume_all(b.bootstrap, topic_name, 300)
    assert [(r.key, r.value) for r in got] == [(m["key"], m["value"]) for m in msgs]
    assert [r.headers for r in got] == [[("h", b"x\x00%d" % i), ("empty", b"")]
                                        for i in range(300)]

    kc = helpers.kcat_consume(b.bootstrap, topic_name, expected_count=300)
    assert [(r.key, r.value) for r in kc] == [(m["key"], m["value"]) for m in msgs]

    if kafka_python_has(codec):
        from kafka import KafkaConsumer, TopicPartition
        c = KafkaConsumer(bootstrap_servers=b.bootstrap, auto_offset_reset="earliest",
                          enable_auto_commit=False, consumer_timeout_ms=5000)
        c.assign([TopicPartition(topic_name, 0)])
        c.seek_to_beginning()
        vals = []
        for m in c:
            vals.append((m.key, m.value))
            if len(vals) == 300:
                break
        c.close()
        assert vals == [(m["key"], m["value"]) for m in msgs]


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_produce_codec(rill_broker, topic_name, codec):
    if not kafka_python_has(codec):
        pytest.skip("kafka-python here has no %s library (python3-%s not installed)"
                    % (codec, codec))
    b = rill_broker()
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all",
                      compression_type=None if codec == "none" else codec, linger_ms=10)
    data = payloads(200, b"kp")
    futs = [p.send(topic_name, key=k, value=v) for k, v in data]
    offsets = [f.get(timeout=30).offset for f in futs]
    p.close()
    assert offsets == list(range(200))
    got = helpers.consume_all(b.bootstrap, topic_name, 200)
    assert [(r.key, r.value) for r in got] == data


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_produce_codec(rill_broker, topic_name, codec, tmp_path):
    b = rill_broker()
    lines = [b"line %d \xff\xfe %s" % (i, codec.encode()) for i in range(500)]
    src = tmp_path / "in.txt"
    src.write_bytes(b"\n".join(lines) + b"\n")
    r = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", topic_name, "-z", codec,
                        "-X", "topic.request.required.acks=-1", "-l", str(src)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert r.returncode == 0, r.stderr
    got = helpers.kcat_consume(b.bootstrap, topic_name, expected_count=500)
    assert [rec.value for rec in got] == lines
    got2 = helpers.consume_all(b.bootstrap, topic_name, 500)
    assert [rec.value for rec in got2] == lines


# --------------------------------------------------------------------------
# Acknowledgements
# --------------------------------------------------------------------------

@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_confluent_acks(rill_broker, topic_name, acks):
    b = rill_broker()
    msgs = [dict(value=b"acks-%s-%d" % (acks.encode(), i)) for i in range(2000)]
    reports = helpers.confluent_produce(b.bootstrap, topic_name, msgs,
                                        conf={"acks": acks, "linger.ms": 5})
    assert all(err is None for err, _, _ in reports)
    if acks != "0":
        assert sorted(off for _, _, off in reports) == list(range(2000))
    got = helpers.consume_all(b.bootstrap, topic_name, 2000)
    assert [r.value for r in got] == [m["value"] for m in msgs]


@pytest.mark.parametrize("acks", [0, 1, "all"])
def test_kafka_python_acks(rill_broker, topic_name, acks):
    b = rill_broker()
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks=acks)
    futs = [p.send(topic_name, b"kp-%d" % i) for i in range(500)]
    p.flush(30)
    for f in futs:
        f.get(timeout=30)
    p.close()
    got = helpers.consume_all(b.bootstrap, topic_name, 500)
    assert [r.value for r in got] == [b"kp-%d" % i for i in range(500)]


def test_idempotent_producer(rill_broker, topic_name):
    b = rill_broker()
    msgs = [dict(value=b"idem-%d" % i, partition=i % 3) for i in range(3000)]
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic(topic_name, 3, 1)])[topic_name].result(15)
    reports = helpers.confluent_produce(b.bootstrap, topic_name, msgs,
                                        conf={"enable.idempotence": True, "linger.ms": 2})
    assert all(err is None for err, _, _ in reports)
    got = helpers.consume_all(b.bootstrap, topic_name, 3000, settle=0.5)
    assert len(got) == 3000
    assert sorted(r.value for r in got) == sorted(m["value"] for m in msgs)


# --------------------------------------------------------------------------
# Restart, admin
# --------------------------------------------------------------------------

def test_restart_keeps_data(rill_broker, topic_name):
    b = rill_broker()
    msgs = [dict(value=b"before-%d" % i, key=b"k%d" % i) for i in range(1000)]
    helpers.confluent_produce(b.bootstrap, topic_name, msgs, conf={"acks": "all"})
    assert b.stop() == 0
    assert "stopped" in b.output()
    b.restart()
    got = helpers.consume_all(b.bootstrap, topic_name, 1000)
    assert [(r.key, r.value) for r in got] == [(m["key"], m["value"]) for m in msgs]
    more = [dict(value=b"after-%d" % i) for i in range(10)]
    reports = helpers.confluent_produce(b.bootstrap, topic_name, more)
    assert [off for _, _, off in reports] == list(range(1000, 1010))


def test_restart_after_sigkill_keeps_acked(rill_broker, topic_name):
    b = rill_broker()
    msgs = [dict(value=b"acked-%d" % i) for i in range(500)]
    reports = helpers.confluent_produce(b.bootstrap, topic_name, msgs, conf={"acks": "all"})
    assert all(err is None for err, _, _ in reports)
    b.kill()
    b.restart()
    got = helpers.consume_all(b.bootstrap, topic_name, 500)
    assert [r.value for r in got] == [m["value"] for m in msgs]


def test_admin_topics_partitions_configs(rill_broker, topic_name):
    b = rill_broker()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = a.create_topics([NewTopic(topic_name, 2, 1, config={"retention.ms": "3600000"})])
    fs[topic_name].result(15)
    with pytest.raises(ck.KafkaException) as ei:
        a.create_topics([NewTopic(topic_name, 2, 1)])[topic_name].result(15)
    assert ei.value.args[0].code() == ck.KafkaError.TOPIC_ALREADY_EXISTS
    with pytest.raises(ck.KafkaException) as ei:
        a.create_topics([NewTopic(topic_name + "_rf3", 1, 3)])[topic_name + "_rf3"].result(15)
    assert ei.value.args[0].code() == ck.KafkaError.INVALID_REPLICATION_FACTOR
    assert helpers.partitions_of(b.bootstrap, topic_name) == [0, 1]

    a.create_partitions([NewPartitions(topic_name, 4)])[topic_name].result(15)
    assert helpers.partitions_of(b.bootstrap, topic_name) == [0, 1, 2, 3]

    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name)
    cfg = a.describe_configs([res])[res].result(15)
    assert cfg["retention.ms"].value == "3600000"
    assert cfg["segment.bytes"].value == str(1 << 30)
    assert cfg["cleanup.policy"].value == "delete"
    broker = ConfigResource(ConfigResource.Type.BROKER, "0")
    bcfg = a.describe_configs([broker])[broker].result(15)
    assert bcfg["num.partitions"].value == "1"

    helpers.confluent_produce(b.bootstrap, topic_name, [dict(value=b"x", partition=3)])
    a.delete_topics([topic_name])[topic_name].result(15)
    md = a.list_topics(timeout=10)
    assert topic_name not in md.topics


def test_alter_topic_configs(rill_broker, topic_name):
    """AlterConfigs from confluent-kafka and kafka-python changes a topic after creation (the
    set sent replaces the topic's overrides, as Kafka's legacy AlterConfigs does); the logs
    act on it at once (retention deletes by the new retention.ms); bad values and broker
    resources are refused with Kafka's errors."""
    b = rill_broker("-X", "log.retention.check.interval.ms=200")
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic(topic_name, 1, 1, config={"cleanup.policy": "compact"})])[
        topic_name
    ].result(15)
    old = int(time.time() * 1000) - 3600 * 1000  # an hour ago
    helpers.confluent_produce(
        b.bootstrap, topic_name, [dict(value=b"v%d" % i, key=b"k", timestamp=old) for i in range(5)]
    )
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name)

    # compact keeps the hour-old records whatever retention.ms says
    a.alter_configs(
        [ConfigResource(ConfigResource.Type.TOPIC, topic_name,
                        set_config={"cleanup.policy": "compact", "retention.ms": "60000"})]
    )[res].result(15)
    cfg = a.describe_configs([res])[res].result(15)
    assert cfg["retention.ms"].value == "60000"
    assert cfg["cleanup.policy"].value == "compact"
    time.sleep(1.0)
    lo, hi = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "w"}).get_watermark_offsets(
        ck.TopicPartition(topic_name, 0), timeout=10)
    assert (lo, hi) == (0, 5)

    # kafka-python: the set replaces the overrides, so cleanup.policy goes back to delete and
    # retention deletes the hour-old segment once it rolls (segment.ms)
    from kafka.admin import KafkaAdminClient, ConfigResource as KCR, ConfigResourceType

    ka = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    try:
        r = ka.alter_configs([KCR(ConfigResourceType.TOPIC, topic_name,
                                  configs={"retention.ms": "60000", "segment.ms": "100"})])
        assert [x[0] for x in r.resources] == [0], r
    finally:
        ka.close()
    cfg = a.describe_configs([res])[res].result(15)
    assert cfg["cleanup.policy"].value == "delete"
    assert cfg["segment.ms"].value == "100"
    helpers.confluent_produce(b.bootstrap, topic_name, [dict(value=b"new")])
    deadline = time.time() + 15
    while time.time() < deadline:
        lo, hi = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "w"}).get_watermark_offsets(
            ck.TopicPartition(topic_name, 0), timeout=10)
        if lo >= 5:
            break
        time.sleep(0.2)
    assert lo >= 5 and hi == 6, (lo, hi)

    # refusals
    bad = a.alter_configs(
        [ConfigResource(ConfigResource.Type.TOPIC, topic_name, set_config={"retention.ms": "soon"})]
    )[res]
    with pytest.raises(ck.KafkaException) as ei:
        bad.result(15)
    assert ei.value.args[0].code() == ck.KafkaError.INVALID_CONFIG
    broker = ConfigResource(ConfigResource.Type.BROKER, "0", set_config={"num.partitions": "3"})
    with pytest.raises(ck.KafkaException) as ei:
        a.alter_configs([broker])[broker].result(15)
    assert ei.value.args[0].code() == ck.KafkaError.INVALID_REQUEST
    nope = ConfigResource(ConfigResource.Type.TOPIC, topic_name + "-nope", set_config={"retention.ms": "1"})
    with pytest.raises(ck.KafkaException) as ei:
        a.alter_configs([nope])[nope].result(15)
    assert ei.value.args[0].code() == ck.KafkaError.UNKNOWN_TOPIC_OR_PART


def test_log_append_time_topic(rill_broker, topic_name):
    b = rill_broker()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic(topic_name, 1, 1,
                              config={"message.timestamp.type": "LogAppendTime"})])[
        topic_name].result(15)
    before = int(time.time() * 1000)
    helpers.confluent_produce(b.bootstrap, topic_name,
                              [dict(value=b"old-%d" % i, timestamp=1000 + i) for i in range(5)],
                              conf={"compression.codec": "lz4"})
    after = int(time.time() * 1000)
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "lat",
                     "enable.partition.eof": False})
    try:
        c.assign([ck.TopicPartition(topic_name, 0, ck.OFFSET_BEGINNING)])
        got = []
        deadline = time.monotonic() + 10
        while len(got) < 5 and time.monotonic() < deadline:
            got += [m for m in c.consume(10, 0.2) if not m.error()]
        assert len(got) == 5
        for m in got:
            kind, ts = m.timestamp()
            assert kind == ck.TIMESTAMP_LOG_APPEND_TIME
            assert before - 1000 <= ts <= after + 1000, (before, ts, after)
    finally:
        c.close()


def test_auto_create_uses_num_partitions(rill_broker, topic_name):
    b = rill_broker("-X", "num.partitions=3")
    helpers.confluent_produce(b.bootstrap, topic_name, [dict(value=b"v")],
                              conf={"allow.auto.create.topics": True})
    assert helpers.partitions_of(b.bootstrap, topic_name) == [0, 1, 2]


def test_no_auto_create_when_disabled(rill_broker, topic_name):
    b = rill_broker("-X", "auto.create.topics.enable=false")
    from kafka import KafkaProducer
    from kafka.errors import KafkaTimeoutError
    p = KafkaProducer(bootstrap_servers=b.bootstrap, max_block_ms=1500)
    with pytest.raises(KafkaTimeoutError):
        p.send(topic_name, b"v").get(timeout=5)
    p.close()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    assert topic_name not in a.list_topics(timeout=10).topics


def test_list_offsets_earliest_latest_by_time(rill_broker, topic_name):
    b = rill_broker()
    t0 = int(time.time() * 1000) - 100000
    msgs = [dict(value=b"t%d" % i, timestamp=t0 + i * 1000) for i in range(50)]
    helpers.confluent_produce(b.bootstrap, topic_name, msgs, conf={"linger.ms": 0})
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "lo"})
    try:
        lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic_name, 0), timeout=10)
        assert (lo, hi) == (0, 50)
        found = c.offsets_for_times([ck.TopicPartition(topic_name, 0, t0 + 20500)], timeout=10)
        assert found[0].offset == 21
        found = c.offsets_for_times([ck.TopicPartition(topic_name, 0, t0 + 10 ** 9)], timeout=10)
        assert found[0].offset == -1
    finally:
        c.close()


@pytest.mark.parametrize("codec", ["none", "lz4", "zstd"])
def test_offsets_for_times_inside_a_batch(rill_broker, topic_name, codec):
    """Records of one (compressed) batch with increasing timestamps: the answer is the
    exact record, not the batch's first one."""
    b = rill_broker()
    t0 = int(time.time() * 1000) - 50000
    msgs = [dict(value=b"r%d" % i, timestamp=t0 + i * 10) for i in range(200)]
    helpers.confluent_produce(b.bootstrap, topic_name, msgs,
                              conf={"linger.ms": 200, "compression.codec": codec})
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "oft"})
    try:
        for want in (0, 1, 57, 199):
            found = c.offsets_for_times([ck.TopicPartition(topic_name, 0, t0 + want * 10 - 3)],
                                        timeout=10)
            assert found[0].offset == want, (want, found[0].offset)
    finally:
        c.close()


def test_long_poll_wakes_on_produce(rill_broker, topic_name):
    """A consumer waiting at the end of the log gets a new record at once, not after
    fetch.wait.max.ms."""
    b = rill_broker()
    helpers.confluent_produce(b.bootstrap, topic_name, [dict(value=b"first")])
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "lp",
                     "fetch.wait.max.ms": 5000, "enable.partition.eof": False})
    try:
        c.assign([ck.TopicPartition(topic_name, 0, 1)])
        assert c.consume(10, 1.0) == []  # nothing after offset 0: parked
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
        t = time.monotonic()
        p.produce(topic_name, b"second")
        p.flush(10)
        got = []
        while not got and time.monotonic() - t < 4:
            got = [m for m in c.consume(10, 0.1) if not m.error()]
        assert got and got[0].value() == b"second"
        assert time.monotonic() - t < 2.5, "the parked fetch was not woken by the append"
    finally:
        c.close()
