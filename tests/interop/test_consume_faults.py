"""test_consume_faults -- librill's consumer keeps its place through faults on librdkafka's
mock cluster.

Issue 4, "Faults (mock cluster)": leader moves and a broker going down while partitions
are being fetched (every offset read exactly once, in order: the fetch position is never
lost or rewound), the group coordinator moving, and injected errors on JoinGroup,
SyncGroup, Heartbeat and OffsetCommit (the member rejoins or retries; no message is lost,
and what it finally commits is the end of every partition).
"""

import subprocess
import time

import pytest

import helpers
from helpers import HarnessError
from test_consume_interop import consume_probe_path, parse_probe_line
from test_consume_groups import (Member, committed, members, produce_values,  # noqa: F401
                                 wait_consumed, wait_split)


class ProbeReader:
    """consume_probe in the background, assigning partitions from the beginning."""

    def __init__(self, bootstrap, topic, count, partitions):
        argv = [consume_probe_path(), bootstrap, topic, str(count), "-p",
                ",".join(str(p) for p in partitions), "-X", "retry.backoff.ms=100"]
        self.count = count
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def finish(self, timeout=45):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise HarnessError("consume_probe did not finish; stderr:\n%s"
                               % err.decode(errors="replace")[-3000:])
        lines = out.decode(errors="replace").splitlines()
        if self.proc.returncode != 0:
            raise HarnessError("consume_probe exited %d after %s; stderr:\n%s" % (
                self.proc.returncode, lines[-1] if lines else "nothing",
                err.decode(errors="replace")[-3000:]))
        return [parse_probe_line(l) for l in lines if l.startswith("MSG ")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def readers():
    started = []
    yield started
    for r in started:
        r.close()


def check_exactly_once(recs, msgs, partitions):
    """recs in read order: per partition offsets 0..n-1 once each, in order, with the
    values produced."""
    for p in range(partitions):
        want = [m["value"] for m in msgs if m["partition"] == p]
        got = [r for r in recs if r.partition == p]
        assert [r.offset for r in got] == list(range(len(want))), \
            "partition %d: %d read, offsets %s..." % (p, len(got), [r.offset for r in got][:10])
        assert [r.value for r in got] == want, "partition %d values" % p
    assert len(recs) == len(msgs)


def batch(tag, n, partitions):
    return [dict(value=b"%s-%05d" % (tag, i), partition=i % partitions) for i in range(n)]


@pytest.mark.timeout(90)
def test_leader_moves_while_fetching(mock_cluster, topic_name, readers):
    mc = mock_cluster(3)
    mc.create_topic(topic_name, 4, 3)
    msgs = batch(b"a", 1000, 4)
    helpers.confluent_produce(mc.bootstrap, topic_name, msgs)
    total = 4000
    rd = ProbeReader(mc.bootstrap, topic_name, total, range(4))
    readers.append(rd)
    for rnd, tag in enumerate([b"b", b"c", b"d"]):
        time.sleep(0.7)
        for p in range(4):
            mc.set_leader(topic_name, p, (p + rnd + 1) % 3 + 1)
        more = batch(tag, 1000, 4)
        helpers.confluent_produce(mc.bootstrap, topic_name, more)
        msgs += more
    check_exactly_once(rd.finish(), msgs, 4)


@pytest.mark.timeout(90)
def test_broker_down_while_fetching(mock_cluster, topic_name, readers):
    """The leader of two partitions goes away for 3 s (connections dropped and refused,
    no leader change), then comes back; then a leader fails over to another broker."""
    mc = mock_cluster(3)
    mc.create_topic(topic_name, 4, 3)
    for p in range(4):
        mc.set_leader(topic_name, p, 2 if p < 2 else 3)
    msgs = batch(b"a", 800, 4)
    helpers.confluent_produce(mc.bootstrap, topic_name, msgs)
    rd = ProbeReader(mc.bootstrap, topic_name, 3200, range(4))
    readers.append(rd)
    time.sleep(1.0)
    mc.down(2)
    more = batch(b"b", 800, 4)
    # Partitions 2 and 3 take these now; 0 and 1 once broker 2 is back.
    p = subprocess.Popen(["/usr/bin/python3", "-c",
                          "import sys; sys.path.insert(0, %r); import helpers; "
                          "helpers.confluent_produce(%r, %r, %r)"
                          % (helpers.HERE, mc.bootstrap, topic_name, more)])
    time.sleep(3.0)
    mc.up(2)
    assert p.wait(timeout=40) == 0
    msgs += more
    time.sleep(1.0)
    mc.down(3)
    for q in (2, 3):
        mc.set_leader(topic_name, q, 1)
    more = batch(b"c", 1600, 4)
    helpers.confluent_produce(mc.bootstrap, topic_name, more)
    msgs += more
    mc.up(3)
    check_exactly_once(rd.finish(), msgs, 4)


# --------------------------------------------------------------------------
# Group faults
# --------------------------------------------------------------------------

APIS = {"offsetcommit": 8, "joingroup": 11, "heartbeat": 12, "syncgroup": 14}

# Coordinator-loss cases: a commit sent for the previous generation that fails with
# ILLEGAL_GENERATION must not make the current generation rejoin (it used to, for ever).


def rebalances(m):
    return sum(1 for k, _ in m._events() if k == "ASSIGNED")


def group_fault_run(mc, topic, group, inject, expect_rejoin, members):
    """One librill member; batch a; `inject(mc)`; batch b (and a rejoin if expected);
    batch c; SIGTERM; nothing lost and the end committed."""
    mc.create_topic(topic, 2, 1)
    m = Member("librill", mc.bootstrap, topic, group)
    members.append(m)
    wait_split(members, 2)
    seen_rejoins = rebalances(m) // 2  # two partitions: one ASSIGNED line each
    a = produce_values(mc.bootstrap, topic, [b"a%d" % i for i in range(200)], 2)
    wait_consumed(members, ["a%d" % i for i in range(200)])
    inject(mc)
    produce_values(mc.bootstrap, topic, [b"b%d" % i for i in range(200)], 2)
    wait_consumed(members, ["b%d" % i for i in range(200)], timeout=45)
    if expect_rejoin:
        helpers.wait_for(lambda: rebalances(m) // 2 > seen_rejoins and len(m.assignment()) == 2,
                         40, what="the member to rejoin and get its partitions back")
    produce_values(mc.bootstrap, topic, [b"c%d" % i for i in range(200)], 2)
    wait_consumed(members, ["c%d" % i for i in range(200)], timeout=45)
    m.stop()
    assert committed(mc.bootstrap, group, topic, 2) == [300, 300]
    # Per partition the offsets only go forward, except where a rejoin went back to
    # the last commit (at-least-once): never past a gap.
    for p in range(2):
        offs = [o for q, o, _ in m.messages() if q == p]
        assert sorted(set(offs)) == list(range(300)), "partition %d lost offsets" % p
    return a


@pytest.mark.timeout(100)
@pytest.mark.parametrize("errors", [
    [("REBALANCE_IN_PROGRESS", 1)],
    [("NOT_COORDINATOR", 1)],
    [("UNKNOWN_MEMBER_ID", 1)],
])
def test_heartbeat_errors(mock_cluster, topic_name, members, errors):
    mc = mock_cluster(1)

    def inject(mc):
        for err, n in errors:
            mc.push_errors(APIS["heartbeat"], err, n)
    group_fault_run(mc, topic_name, "hb-" + errors[0][0], inject,
                    errors[0][0] != "NOT_COORDINATOR", members)


@pytest.mark.timeout(100)
@pytest.mark.parametrize("api,errors", [
    ("joingroup", [("COORDINATOR_LOAD_IN_PROGRESS", 2), ("NOT_COORDINATOR", 1)]),
    ("joingroup", [("COORDINATOR_NOT_AVAILABLE", 1), ("REBALANCE_IN_PROGRESS", 1)]),
    ("syncgroup", [("REBALANCE_IN_PROGRESS", 1)]),
    ("syncgroup", [("NOT_COORDINATOR", 1), ("ILLEGAL_GENERATION", 1)]),
])
def test_join_and_sync_errors(mock_cluster, topic_name, members, api, errors):
    """A heartbeat answered REBALANCE_IN_PROGRESS makes the member rejoin, and its
    JoinGroup or SyncGroup then meets the errors."""
    mc = mock_cluster(1)

    def inject(mc):
        for err, n in errors:
            mc.push_errors(APIS[api], err, n)
        mc.push_errors(APIS["heartbeat"], "REBALANCE_IN_PROGRESS", 1)
    group_fault_run(mc, topic_name, "js-%s-%s" % (api, errors[0][0]), inject, True, members)


@pytest.mark.timeout(100)
@pytest.mark.parametrize("errors", [
    [("NOT_COORDINATOR", 2)],
    [("COORDINATOR_LOAD_IN_PROGRESS", 2)],
    [("REQUEST_TIMED_OUT", 1), ("COORDINATOR_NOT_AVAILABLE", 1)],
])
def test_offset_commit_errors(mock_cluster, topic_name, members, errors):
    mc = mock_cluster(1)

    def inject(mc):
        for err, n in errors:
            mc.push_errors(APIS["offsetcommit"], err, n)
    group_fault_run(mc, topic_name, "oc-" + errors[0][0], inject, False, members)


@pytest.mark.timeout(100)
@pytest.mark.parametrize("err", ["COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR"])
def test_revoke_commit_retried(mock_cluster, topic_name, members, err):
    """The commit before an eager revoke fails twice with a retriable error: it is sent
    again (generation unchanged) before the JoinGroup, as the Java consumer does, so
    the offsets are committed by the time the member is back (auto commit every 60 s:
    no other commit could have stored them) and nothing is read twice."""
    mc = mock_cluster(1)
    group = "rv-" + err
    mc.create_topic(topic_name, 2, 1)
    m = Member("librill", mc.bootstrap, topic_name, group,
               extra={"auto.commit.interval.ms": "60000", "retry.backoff.ms": "200"})
    members.append(m)
    wait_split(members, 2)
    seen = rebalances(m)
    produce_values(mc.bootstrap, topic_name, [b"a%d" % i for i in range(200)], 2)
    wait_consumed(members, ["a%d" % i for i in range(200)])
    mc.push_errors(APIS["offsetcommit"], err, 2)
    mc.push_errors(APIS["heartbeat"], "REBALANCE_IN_PROGRESS", 1)
    helpers.wait_for(lambda: rebalances(m) >= seen + 2 and len(m.assignment()) == 2, 40,
                     what="the member to rejoin and get its partitions back")
    assert committed(mc.bootstrap, group, topic_name, 2) == [100, 100], m.err.tail(30)
    produce_values(mc.bootstrap, topic_name, [b"b%d" % i for i in range(200)], 2)
    wait_consumed(members, ["b%d" % i for i in range(200)], timeout=45)
    m.stop()
    offs = [(p, o) for p, o, _ in m.messages()]
    assert sorted(offs) == [(p, o) for p in range(2) for o in range(200)], m.err.tail(30)
    assert committed(mc.bootstrap, group, topic_name, 2) == [200, 200]


@pytest.mark.timeout(100)
def test_coordinator_moves(mock_cluster, topic_name, members):
    mc = mock_cluster(3)
    group = "moving"
    mc.cmd("coordinator group %s 1" % group)
    mc.create_topic(topic_name, 2, 3)
    m = Member("librill", mc.bootstrap, topic_name, group)
    members.append(m)
    wait_split(members, 2)
    vals = []
    for rnd, coord in enumerate([2, 3, 1]):
        more = [b"r%d-%d" % (rnd, i) for i in range(150)]
        produce_values(mc.bootstrap, topic_name, more, 2)
        vals += more
        wait_consumed(members, [v.decode() for v in more], timeout=45)
        time.sleep(1.2)  # an auto commit or two on the current coordinator
        mc.cmd("coordinator group %s %d" % (group, coord))
    more = [b"last-%d" % i for i in range(150)]
    produce_values(mc.bootstrap, topic_name, more, 2)
    wait_consumed(members, [v.decode() for v in more], timeout=45)
    m.stop()
    assert committed(mc.bootstrap, group, topic_name, 2) == [300, 300]
    for p in range(2):
        offs = [o for q, o, _ in m.messages() if q == p]
        assert sorted(set(offs)) == list(range(300))
