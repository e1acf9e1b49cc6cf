"""test_broker_groups -- consumer groups against build/rill-broker.

librdkafka (confluent-kafka) and kafka-python consumers in groups: every
record consumed once across the members, committed offsets kept across a
broker restart, a group of members from two libraries rebalancing when a
third joins and when one dies, and the group admin APIs.
"""

import os
import signal
import subprocess
import sys
import re
import textwrap
import threading
import time

import pytest

import helpers
from test_broker_wire import rill_broker  # noqa: F401 (checks every broker stops cleanly)

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic

FAST_GROUP = ("-X", "group.initial.rebalance.delay.ms=0")


def make_topic(bootstrap, topic, partitions, n):
    a = AdminClient({"bootstrap.servers": bootstrap})
    a.create_topics([NewTopic(topic, partitions, 1)])[topic].result(15)
    msgs = [dict(value=b"m-%d" % i, partition=i % partitions) for i in range(n)]
    reports = helpers.confluent_produce(bootstrap, topic, msgs)
    assert all(e is None for e, _, _ in reports)
    return [m["value"] for m in msgs]


def confluent_consumer(bootstrap, group, **extra):
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "log_level": 3}
    conf.update(extra)
    return ck.Consumer(conf)


def drain(c, want, timeout):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for m in c.consume(1000, 0.2):
            if m.error():
                raise helpers.HarnessError(str(m.error()))
            got.append((m.partition(), m.offset(), m.value()))
    return got


def test_confluent_group_consumes_all_and_commits(rill_broker, topic_name):
    b = rill_broker(*FAST_GROUP)
    values = make_topic(b.bootstrap, topic_name, 4, 400)
    c = confluent_consumer(b.bootstrap, "g1", **{"enable.auto.commit": False})
    c.subscribe([topic_name])
    got = drain(c, 400, 30)
    assert sorted(v for _, _, v in got) == sorted(values)
    c.commit(asynchronous=False)
    committed = c.committed([ck.TopicPartition(topic_name, p) for p in range(4)], timeout=10)
    assert [tp.offset for tp in committed] == [100, 100, 100, 100]
    c.close()

    # Committed offsets survive a restart: the group resumes where it stopped.
    b.restart()
    helpers.confluent_produce(b.bootstrap, topic_name,
                              [dict(value=b"late-%d" % p, partition=p) for p in range(4)])
    c = confluent_consumer(b.bootstrap, "g1")
    c.subscribe([topic_name])
    got = drain(c, 4, 30)
    assert sorted(v for _, _, v in got) == [b"late-%d" % p for p in range(4)]
    assert sorted(o for _, o, _ in got) == [100] * 4
    c.close()


def test_kafka_python_group(rill_broker, topic_name):
    b = rill_broker(*FAST_GROUP)
    values = make_topic(b.bootstrap, topic_name, 3, 300)
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(topic_name, bootstrap_servers=b.bootstrap, group_id="kp",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      consumer_timeout_ms=10000)
    got = []
    for m in c:
        got.append(m.value)
        if len(got) == 300:
            break
    c.commit()
    assert sorted(got) == sorted(values)
    assert [c.committed(TopicPartition(topic_name, p)) for p in range(3)] == [100, 100, 100]
    c.close()
    # The same offsets, read by the other library.
    cc = confluent_consumer(b.bootstrap, "kp")
    committed = cc.committed([ck.TopicPartition(topic_name, p) for p in range(3)], timeout=10)
    assert [tp.offset for tp in committed] == [100, 100, 100]
    cc.close()


KAFKA_PYTHON_MEMBER = textwrap.dedent("""\
    import sys, time
    from kafka import KafkaConsumer
    c = KafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
                      auto_offset_reset="earliest", session_timeout_ms=6000,
                      heartbeat_interval_ms=500, max_poll_interval_ms=10000)
    end = time.time() + float(sys.argv[4])
    while time.time() < end:
        c.poll(200)
        print("ASSIGNED", sorted(tp.partition for tp in c.assignment()), flush=True)
    c.close()
    """)


def assignment_of(c):
    return sorted(tp.partition for tp in c.assignment())


@pytest.mark.timeout(150)
def test_mixed_group_rebalances_on_join_and_death(rill_broker, topic_name, tmp_path):
    """A kafka-python member and a librdkafka member share 6 partitions; a third member
    joins (everyone shrinks); the kafka-python member is killed and its partitions move
    to the others after its session times out."""
    b = rill_broker(*FAST_GROUP)
    make_topic(b.bootstrap, topic_name, 6, 60)
    script = tmp_path / "member.py"
    script.write_text(KAFKA_PYTHON_MEMBER)
    kp = subprocess.Popen(["/usr/bin/python3", str(script), b.bootstrap, topic_name, "mixed",
                           "120"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    last = {"line": None}

    def reader():
        for raw in iter(kp.stdout.readline, b""):
            last["line"] = raw.decode().strip()

    threading.Thread(target=reader, daemon=True).start()
    c1 = confluent_consumer(b.bootstrap, "mixed")
    c2 = None
    try:
        c1.subscribe([topic_name])

        state = {"kp": None}

        def settled(want_c1, want_kp):
            c1.consume(100, 0.1)
            if c2 is not None:
                c2.consume(100, 0.1)
            line = last["line"]
            if line and line.startswith("ASSIGNED "):
                state["kp"] = [int(x) for x in re.findall(r"\d+", line)]
            return (len(assignment_of(c1)) == want_c1 and state["kp"] is not None
                    and len(state["kp"]) == want_kp)

        helpers.wait_for(lambda: settled(3, 3), 60, interval=0.1,
                         what="two members with 3 partitions each")
        assert sorted(assignment_of(c1) + state["kp"]) == list(range(6))

        c2 = confluent_consumer(b.bootstrap, "mixed")
        c2.subscribe([topic_name])
        helpers.wait_for(lambda: settled(2, 2) and len(assignment_of(c2)) == 2, 60,
                         interval=0.1, what="three members with 2 partitions each")
        assert sorted(assignment_of(c1) + assignment_of(c2) + state["kp"]) == list(range(6))

        kp.send_signal(signal.SIGKILL)
        kp.wait(10)

        def two_left():
            c1.consume(100, 0.1)
            c2.consume(100, 0.1)
            return len(assignment_of(c1)) == 3 and len(assignment_of(c2)) == 3

        helpers.wait_for(two_left, 60, interval=0.1,
                         what="the dead member's partitions to move (session timeout)")
        assert sorted(assignment_of(c1) + assignment_of(c2)) == list(range(6))
    finally:
        if kp.poll() is None:
            kp.kill()
            kp.wait(10)
        c1.close()
        if c2 is not None:
            c2.close()


def test_group_admin_list_describe_delete(rill_broker, topic_name):
    b = rill_broker(*FAST_GROUP)
    make_topic(b.bootstrap, topic_name, 1, 10)
    c = confluent_consumer(b.bootstrap, "adm", **{"enable.auto.commit": False})
    c.subscribe([topic_name])
    assert len(drain(c, 10, 30)) == 10
    c.commit(asynchronous=False)
    from kafka.admin import KafkaAdminClient
    ka = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    try:
        groups = dict(ka.list_consumer_groups())
        assert "adm" in groups
        desc = ka.describe_consumer_groups(["adm"])[0]
        assert desc.state == "Stable" and len(desc.members) == 1
        c.close()
        helpers.wait_for(lambda: ka.describe_consumer_groups(["adm"])[0].state == "Empty", 15,
                         what="the group to become empty")
        offsets = ka.list_consumer_group_offsets("adm")
        assert {tp.partition: om.offset for tp, om in offsets.items()} == {0: 10}
        ka.delete_consumer_groups(["adm"])
        assert "adm" not in dict(ka.list_consumer_groups())
    finally:
        ka.close()
