"""test_produce_probe -- librill's C API (through tests/tools/produce_probe) against
librdkafka's mock cluster: what the CLI cannot express.

Null keys and values, binary keys/values/header values (NUL, newline, high bytes),
null header values, 1 MiB values, every codec, and delivery reports checked
message by message: partition and offset in the report equal where the consumer
finds the message; an injected non-retriable error reaches exactly the messages
of the request it hit.
"""

import pytest

import helpers
from probe import Probe

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
MIB = 1024 * 1024


def odd_messages():
    msgs = [
        dict(key=None, value=None),                                    # null key, null value
        dict(key=b"tombstone-key", value=None),                        # tombstone
        dict(key=b"", value=b""),                                      # empty, not null
        dict(key=b"\x00\n\xff", value=b"\x00" * 7 + b"\n\r\n\xff\xfe"),
        dict(key=None, value=b"headers", headers=[("a", b"\x00\x01\n"), ("a", b"dup"),
                                                   ("null-value", None), ("empty", b""),
                                                   ("\u00fcnicode", b"\xc3\xbc")]),
    ]
    msgs += [dict(key=b"key-%d" % i, value=bytes([i % 256]) * (i * 37 % 5000)) for i in range(60)]
    return msgs


def produce_all(mc_bootstrap, topic, msgs, conf=None):
    p = Probe(mc_bootstrap, topic, conf=conf)
    try:
        for m in msgs:
            p.produce(m.get("value"), key=m.get("key"), headers=m.get("headers", ()),
                      partition=m.get("partition", -1))
        assert p.flush(30000) == "OK"
        rc = p.finish()
    finally:
        p.close()
    return p, rc


def check_reports_match_log(p, msgs, got):
    """Every report says OK, and its (partition, offset) holds exactly that message."""
    by_pos = {(r.partition, r.offset): r for r in got}
    assert sorted(p.reports) == list(range(len(msgs)))
    for seq, m in enumerate(msgs):
        word, part, off = p.reports[seq]
        assert word == "OK", (seq, word)
        rec = by_pos[(part, off)]
        assert rec.key == m.get("key") and rec.value == m.get("value"), seq
        want_hdrs = [(n, v) for n, v in m.get("headers", ())]
        assert rec.headers == want_hdrs, seq


@pytest.mark.parametrize("brokers", [1, 3])
@pytest.mark.parametrize("codec", CODECS)
def test_null_binary_and_headers_every_codec(mock_cluster, brokers, codec):
    mc = mock_cluster(brokers)
    topic = "odd_%s_%d" % (codec, brokers)
    mc.create_topic(topic, 3, min(brokers, 3))
    msgs = odd_messages()
    p, rc = produce_all(mc.bootstrap, topic, msgs, conf={"compression.type": codec})
    assert rc == 0, p.stderr_text()
    got = helpers.consume_all(mc.bootstrap, topic, len(msgs), timeout=40, settle=0.3)
    assert len(got) == len(msgs)
    check_reports_match_log(p, msgs, got)
    # kcat agrees on keys/values/nulls (it cannot show binary headers).
    kc = helpers.kcat_consume(mc.bootstrap, topic, len(msgs), timeout=40)
    assert [(r.partition, r.offset, r.key, r.value) for r in kc] == \
        [(r.partition, r.offset, r.key, r.value) for r in got]


@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_one_mib_values(mock_cluster, codec):
    """1 MiB values (incompressible and compressible) are accepted and read back.
    The mock keeps 5 MiB per partition, so four values go to four partitions."""
    import os
    mc = mock_cluster(3)
    topic = "big_" + codec
    mc.create_topic(topic, 4, 3)
    msgs = [dict(key=b"r", value=os.urandom(MIB), partition=0),
            dict(key=b"z", value=b"z" * MIB, partition=1),
            dict(key=None, value=os.urandom(MIB - 100), partition=2),
            dict(key=b"h", value=os.urandom(MIB // 2), partition=3,
                 headers=[("big", os.urandom(100000))])]
    p, rc = produce_all(mc.bootstrap, topic, msgs,
                        conf={"compression.type": codec, "message.max.bytes": 2 * MIB})
    assert rc == 0, p.stderr_text()
    got = helpers.consume_all(mc.bootstrap, topic, len(msgs), timeout=40)
    check_reports_match_log(p, msgs, got)


def test_value_over_message_max_bytes_is_refused_locally(mock_cluster):
    mc = mock_cluster(1)
    mc.create_topic("toolarge", 1, 1)
    p = Probe(mc.bootstrap, "toolarge", conf={"message.max.bytes": 100000})
    try:
        p.produce(b"x" * 200000)
        p.produce(b"small")
        assert p.flush(20000) == "OK"
        rc = p.finish()
    finally:
        p.close()
    assert rc == 1
    # Refused at rill_produce (MSG_SIZE_TOO_LARGE) or in its report; never sent.
    err = p.produce_errors.get(0) or p.reports[0][0]
    assert "TOO_LARGE" in err, err
    assert p.reports[1][0] == "OK"
    assert [r.value for r in helpers.consume_all(mc.bootstrap, "toolarge", 1, timeout=20,
                                                 settle=0.5)] == [b"small"]


@pytest.mark.parametrize("err", ["TOPIC_AUTHORIZATION_FAILED", "MSG_SIZE_TOO_LARGE",
                                 "INVALID_RECORD"])
def test_non_retriable_error_reaches_exactly_the_affected_messages(mock_cluster, err):
    """Messages of the request that got the error fail with it; those before and
    after are delivered; nothing failed is in the log."""
    mc = mock_cluster(1)
    mc.create_topic("nonretr", 1, 1)
    # A long linger keeps the three "hit" messages in one batch (one request, the one
    # that gets the error); each flush sends at once whatever linger says.
    p = Probe(mc.bootstrap, "nonretr", conf={"linger.ms": 2000, "enable.idempotence": "false",
                                             "acks": "all"})
    try:
        for i in range(3):
            p.produce(b"before-%d" % i)
        assert p.flush(20000) == "OK"
        mc.push_errors("produce", err, 1)
        for i in range(3):
            p.produce(b"hit-%d" % i)
        p.flush(20000)
        for i in range(3):
            p.produce(b"after-%d" % i)
        assert p.flush(20000) == "OK"
        p.finish()
    finally:
        p.close()
    words = [p.reports[i][0] for i in range(9)]
    assert words[:3] == ["OK"] * 3 and words[6:] == ["OK"] * 3
    # MSG_SIZE_TOO_LARGE is librdkafka's name for Kafka's MESSAGE_TOO_LARGE (10).
    kafka_name = {"MSG_SIZE_TOO_LARGE": "MESSAGE_TOO_LARGE"}.get(err, err)
    assert all(w == kafka_name for w in words[3:6]), words
    got = helpers.consume_all(mc.bootstrap, "nonretr", 6, timeout=20, settle=0.5)
    assert [r.value for r in got] == [b"before-%d" % i for i in range(3)] + \
        [b"after-%d" % i for i in range(3)]


def test_reports_carry_partition_offset_and_timestamp_order(mock_cluster):
    """Offsets in the reports are dense per partition and match the log exactly."""
    mc = mock_cluster(3)
    mc.create_topic("offs", 5, 3)
    msgs = [dict(key=b"%d" % i, value=b"v%d" % i) for i in range(1000)]
    p, rc = produce_all(mc.bootstrap, "offs", msgs, conf={"linger.ms": 2})
    assert rc == 0, p.stderr_text()
    per_part = {}
    for seq in range(len(msgs)):
        _, part, off = p.reports[seq]
        per_part.setdefault(part, []).append(off)
    for part, offs in per_part.items():
        assert offs == list(range(len(offs))), part       # in produce order, no gaps
    got = helpers.consume_all(mc.bootstrap, "offs", len(msgs), timeout=40)
    check_reports_match_log(p, msgs, got)


def test_non_retriable_error_with_idempotence_keeps_producer_usable(mock_cluster):
    """With idempotence on (the default), a TOPIC_AUTHORIZATION_FAILED batch fails its
    messages, and the producer goes on: the Java client adjusts sequences and does not
    treat it as fatal.  (librdkafka 2.0.2 raises a fatal error here; and the mock cluster
    answers an epoch-bumping InitProducerId with INVALID_PRODUCER_ID_MAPPING, so a client
    that bumps the epoch for this error fails the test too.)"""
    mc = mock_cluster(1)
    mc.create_topic("nonretr_idem", 1, 1)
    p = Probe(mc.bootstrap, "nonretr_idem", conf={"linger.ms": 0})
    try:
        p.produce(b"before")
        assert p.flush(20000) == "OK"
        mc.push_errors("produce", "TOPIC_AUTHORIZATION_FAILED", 1)
        p.produce(b"hit")
        p.flush(20000)
        p.produce(b"after")
        assert p.flush(20000) == "OK"
        p.finish()
    finally:
        p.close()
    assert not p.produce_errors, (p.produce_errors, p.stderr_text())
    assert [p.reports[i][0] for i in range(3)] == ["OK", "TOPIC_AUTHORIZATION_FAILED", "OK"]
    got = helpers.consume_all(mc.bootstrap, "nonretr_idem", 2, timeout=20, settle=0.5)
    assert [r.value for r in got] == [b"before", b"after"]
