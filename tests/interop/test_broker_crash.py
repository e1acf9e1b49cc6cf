"""test_broker_crash -- acknowledged means kept: an idempotent acks=all producer runs
while rill-broker is killed with SIGKILL at random moments, ten times, and restarted on
the same data directory and port.  Afterwards every acknowledged record is in the log
exactly once, each partition in the order it was produced, and the log reads to the end.
(SIGKILL keeps the page cache, so this checks recovery, producer state and the server's
acknowledgement logic; power loss is the flush policy's business.)"""

import random
import signal
import threading
import time

import pytest

import helpers
from test_broker_wire import rill_broker  # noqa: F401 (checks every broker stops cleanly)

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic


@pytest.mark.timeout(240)
def test_sigkill_ten_times_keeps_every_acked_record_once(rill_broker, topic_name):
    rnd = random.Random(20261125)
    b = rill_broker()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic_name, 3, 1)])[topic_name].result(15)

    acked, failed = [], []
    stop = threading.Event()

    def produce():
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "message.timeout.ms": 120000,
                         "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
                         "log_level": 0})

        def report(err, msg):
            (failed if err else acked).append((msg.partition(), msg.value()))

        i = 0
        while not stop.is_set():
            try:
                p.produce(topic_name, b"%08d" % i, partition=i % 3, on_delivery=report)
                i += 1
            except BufferError:
                pass
            p.poll(0.001 if i % 50 else 0.01)
        p.flush(120)

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    try:
        for _ in range(10):
            time.sleep(rnd.uniform(0.2, 1.0))
            assert b.kill(signal.SIGKILL) == -signal.SIGKILL
            b.restart()
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(150)
    assert not t.is_alive(), "the producer did not finish"
    assert not failed, failed[:5]
    assert len(acked) > 100

    total = sum(hi for lo, hi in helpers.watermarks(b.bootstrap, topic_name).values())
    got = helpers.consume_all(b.bootstrap, topic_name, total, timeout=60)
    assert len(got) == total  # the whole log is readable
    values = [r.value for r in got]
    assert len(values) == len(set(values)), "duplicates in the log"
    stored = set(values)
    missing = [v for _, v in acked if v not in stored]
    assert not missing, "acknowledged but lost: %r" % missing[:5]
    for part in range(3):
        seq = [int(r.value) for r in got if r.partition == part]
        assert seq == sorted(seq), "partition %d out of order" % part
    # Recovery ran (unclean starts) and said so.
    assert "unclean" in b.output()
