"""test_admin_fake_cluster -- librill's admin routing and retries, through `rill topic` and
`rill group`, against a scripted two-broker cluster written here in Python.

rill-broker is a single node and librdkafka's mock lacks the group admin APIs, so neither
can show that ListGroups goes to every broker and the answers are merged, that each group
is described by its own coordinator (found anew after NOT_COORDINATOR), that ListOffsets
is split by partition leader, that a request refused with NOT_CONTROLLER goes to the new
controller, or that a malformed answer is asked again.  The fake brokers speak only
non-flexible versions (ApiVersions 0, Metadata 1, ListOffsets 1, OffsetFetch 2,
FindCoordinator 0, DescribeGroups 0, ListGroups 0, DeleteGroups 0, CreateTopics 0), encoded
independently of librill's codecs, including the "consumer" protocol assignment bytes.
"""

import socket
import struct
import threading

import pytest

from fakebroker import Reader, frame, s16, s32, s64, sstr

API = {"ListOffsets": 2, "Metadata": 3, "OffsetFetch": 9, "FindCoordinator": 10,
       "DescribeGroups": 15, "ListGroups": 16, "ApiVersions": 18, "CreateTopics": 19,
       "DeleteGroups": 42}
VERSIONS = {API["ApiVersions"]: 0, API["Metadata"]: 1, API["ListOffsets"]: 1,
            API["OffsetFetch"]: 2, API["FindCoordinator"]: 0, API["DescribeGroups"]: 0,
            API["ListGroups"]: 0, API["CreateTopics"]: 0, API["DeleteGroups"]: 0}
NOT_CONTROLLER, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS = 41, 16, 14
NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND = 68, 69


def sarr(items):
    return s32(len(items)) + b"".join(items)


def sbytes(b):
    return s32(-1) if b is None else s32(len(b)) + b


def assignment(parts):
    """The "consumer" protocol's Assignment v0: {topic: [partitions]}, null user data."""
    topics = [sstr(t) + sarr([s32(p) for p in ps]) for t, ps in sorted(parts.items())]
    return s16(0) + sarr(topics) + sbytes(None)


class FakeCluster:
    """Brokers 1 and 2 on 127.0.0.1.  State the tests script:
      controller      the id Metadata names
      real_controller the broker that takes CreateTopics (others: NOT_CONTROLLER, after
                      which Metadata names the real one)
      topics          {topic: [leader of partition 0, of 1, ...]}
      end_offsets     {(topic, partition): offset}
      groups          {broker id: [(group, protocol type)]} for ListGroups
      coordinator     {group: broker id}
      described       {group: (state, protocol, [(member, client, host, {topic: [parts]})])}
      committed       {group: {(topic, partition): offset}}
      once            {(broker id or 0, api name): [error code or "malformed", ...]} answers
                      used up one per request before the normal one
    and read .log: (broker id, api name, detail) per request served."""

    def __init__(self):
        self.lock = threading.Lock()
        self.controller = self.real_controller = 1
        self.topics, self.end_offsets, self.groups = {}, {}, {}
        self.coordinator, self.described, self.committed = {}, {}, {}
        self.created, self.deleted = [], []
        self.once, self.log, self.errors = {}, [], []
        self.socks, self.conns, self.threads = {}, [], []
        self.stopping = False
        for bid in (1, 2):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            s.settimeout(0.2)
            self.socks[bid] = s
            t = threading.Thread(target=self._accept, args=(bid, s), daemon=True)
            t.start()
            self.threads.append(t)
        self.ports = {bid: s.getsockname()[1] for bid, s in self.socks.items()}
        self.bootstrap = "127.0.0.1:%d" % self.ports[1]

    def close(self):
        self.stopping = True
        for s in self.socks.values():
            s.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self.threads:
            t.join(timeout=3)

    def served(self, api, broker=None):
        with self.lock:
            return [e for e in self.log if e[1] == api and broker in (None, e[0])]

    # -- plumbing -----------------------------------------------------------

    def _accept(self, bid, s):
        while not self.stopping:
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(bid, c), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, bid, c):
        c.settimeout(0.5)
        buf = b""
        try:
            while not self.stopping:
                try:
                    chunk = c.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">i", buf[:4])[0]:
                    n = struct.unpack(">i", buf[:4])[0]
                    body, buf = buf[4:4 + n], buf[4 + n:]
                    answer = self._handle(bid, body)
                    if answer is None:
                        return
                    c.sendall(answer)
        except OSError:
            return
        finally:
            c.close()

    def _take_once(self, bid, name):
        with self.lock:
            for key in ((bid, name), (0, name)):
                if self.once.get(key):
                    return self.once[key].pop(0)
        return None

    def _handle(self, bid, body):
        r = Reader(body)
        key, ver, corr = r.i16(), r.i16(), r.i32()
        name = {v: k for k, v in API.items()}.get(key, str(key))
        if key == API["ApiVersions"]:
            keys = b"".join(s16(k) + s16(v) + s16(v) for k, v in sorted(VERSIONS.items()))
            # A newer ApiVersions gets Kafka's v0-shaped UNSUPPORTED_VERSION answer.
            return frame(corr, s16(35 if ver > 0 else 0) + s32(len(VERSIONS)) + keys)
        if VERSIONS.get(key) != ver:
            self.errors.append("broker %d: unexpected %s v%d" % (bid, name, ver))
            return None
        r.string()  # client id
        try:
            special = self._take_once(bid, name)
            answer = getattr(self, "_" + name)(bid, r, special)
        except (ValueError, KeyError) as e:
            self.errors.append("broker %d: %s: %r" % (bid, name, e))
            return None
        if special == "malformed":
            answer = answer[:len(answer) // 2]
        return frame(corr, answer)

    def _record(self, bid, name, detail):
        with self.lock:
            self.log.append((bid, name, detail))

    # -- APIs ------------------------------------------------------------------

    def _Metadata(self, bid, r, special):
        n = r.i32()
        asked = [r.string() for _ in range(max(n, 0))]
        with self.lock:
            ctrl = self.controller
        self._record(bid, "Metadata", asked)
        brokers = sarr([s32(b) + sstr("127.0.0.1") + s32(p) + sstr(None)
                        for b, p in sorted(self.ports.items())])
        topics = []
        for t in (sorted(self.topics) if n < 0 else asked):
            if t not in self.topics:
                topics.append(s16(3) + sstr(t) + b"\x00" + sarr([]))
                continue
            parts = [s16(0) + s32(p) + s32(ld) + sarr([s32(ld)]) + sarr([s32(ld)])
                     for p, ld in enumerate(self.topics[t])]
            topics.append(s16(0) + sstr(t) + b"\x00" + sarr(parts))
        return brokers + s32(ctrl) + sarr(topics)

    def _ListOffsets(self, bid, r, special):
        r.i32()  # replica id
        out, asked = [], []
        for _ in range(r.i32()):
            t = r.string()
            parts = []
            for _ in range(r.i32()):
                p, ts = r.i32(), r.i64()
                asked.append((t, p, ts))
                leader = self.topics[t][p]
                err = special if isinstance(special, int) else (0 if leader == bid else 6)
                off = self.end_offsets.get((t, p), 0) if ts == -1 else 0
                parts.append(s32(p) + s16(err) + s64(-1) + s64(off if not err else -1))
            out.append(sstr(t) + sarr(parts))
        self._record(bid, "ListOffsets", sorted(asked))
        return sarr(out)

    def _OffsetFetch(self, bid, r, special):
        group = r.string()
        n = r.i32()
        self._record(bid, "OffsetFetch", group)
        if n >= 0:
            raise ValueError("the admin client asks for every committed partition")
        err = special if isinstance(special, int) else 0
        if not err and self.coordinator.get(group) != bid:
            err = NOT_COORDINATOR
        by_topic = {}
        for (t, p), off in sorted(self.committed.get(group, {}).items()) if not err else []:
            by_topic.setdefault(t, []).append(s32(p) + s64(off) + sstr("") + s16(0))
        return sarr([sstr(t) + sarr(ps) for t, ps in sorted(by_topic.items())]) + s16(err)

    def _FindCoordinator(self, bid, r, special):
        group = r.string()
        self._record(bid, "FindCoordinator", group)
        err = special if isinstance(special, int) else 0
        cid = self.coordinator.get(group, 1)
        if err:
            return s16(err) + s32(-1) + sstr("") + s32(-1)
        return s16(0) + s32(cid) + sstr("127.0.0.1") + s32(self.ports[cid])

    def _DescribeGroups(self, bid, r, special):
        groups = [r.string() for _ in range(r.i32())]
        self._record(bid, "DescribeGroups", groups)
        out = []
        for g in groups:
            err = special if isinstance(special, int) else 0
            if not err and self.coordinator.get(g, 1) != bid:
                err = NOT_COORDINATOR
            if err or g not in self.described:
                out.append(s16(err) + sstr(g) + sstr("Dead" if not err else "") + sstr("") +
                           sstr("") + sarr([]))
                continue
            state, protocol, members = self.described[g]
            ms = [sstr(m) + sstr(cl) + sstr(h) + sbytes(b"") + sbytes(assignment(parts))
                  for m, cl, h, parts in members]
            out.append(s16(0) + sstr(g) + sstr(state) + sstr("consumer") + sstr(protocol) +
                       sarr(ms))
        return sarr(out)

    def _ListGroups(self, bid, r, special):
        self._record(bid, "ListGroups", None)
        if isinstance(special, int):
            return s16(special) + sarr([])
        return s16(0) + sarr([sstr(g) + sstr(pt) for g, pt in self.groups.get(bid, [])])

    def _CreateTopics(self, bid, r, special):
        out = []
        for _ in range(r.i32()):
            t, n, rf = r.string(), r.i32(), r.i16()
            for _ in range(r.i32()):  # assignments
                r.i32()
                [r.i32() for _ in range(r.i32())]
            for _ in range(r.i32()):  # configs
                r.string(), r.string()
            err = NOT_CONTROLLER if self.real_controller != bid else 0
            if err:
                self.controller = self.real_controller  # the move is visible from now on
            else:
                self.created.append((bid, t, n, rf))
            out.append(sstr(t) + s16(err))
        r.i32()  # timeout
        self._record(bid, "CreateTopics", [o for o in self.created])
        return sarr(out)

    def _DeleteGroups(self, bid, r, special):
        groups = [r.string() for _ in range(r.i32())]
        self._record(bid, "DeleteGroups", groups)
        out = []
        for g in groups:
            err = NOT_COORDINATOR if self.coordinator.get(g, 1) != bid else (
                NON_EMPTY_GROUP if self.described.get(g, ("", "", []))[2] else
                GROUP_ID_NOT_FOUND if g not in self.committed else 0)
            if not err:
                self.deleted.append(g)
            out.append(sstr(g) + s16(err))
        return s32(0) + sarr(out)


@pytest.fixture
def cluster():
    fc = FakeCluster()
    yield fc
    fc.close()
    assert not fc.errors, fc.errors


def run(rill_cli, fc, *args):
    return rill_cli(list(args) + ["-b", fc.bootstrap, "-X", "request.timeout.ms=8000"],
                    timeout=30)


def lines(r):
    return r.stdout.decode().splitlines()


def test_list_groups_asks_every_broker_and_merges(rill_cli, cluster):
    cluster.groups = {1: [("ga", "consumer"), ("shared", "consumer")],
                      2: [("gb", "consumer"), ("offsets-only", ""), ("shared", "consumer")]}
    cluster.once[(2, "ListGroups")] = [COORDINATOR_LOAD_IN_PROGRESS, "malformed"]
    r = run(rill_cli, cluster, "group", "list")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in lines(r)]
    assert rows == [["GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR"],
                    ["ga", "-", "consumer", "1"], ["gb", "-", "consumer", "2"],
                    ["offsets-only", "-", "-", "2"], ["shared", "-", "consumer", "1"]]
    # Broker 2 was asked three times (loading, malformed, answered); broker 1 once.
    assert len(cluster.served("ListGroups", 1)) == 1
    assert len(cluster.served("ListGroups", 2)) == 3


def test_describe_goes_to_each_coordinator_and_splits_offsets_by_leader(rill_cli, cluster):
    cluster.topics = {"t": [1, 2, 2]}
    cluster.end_offsets = {("t", 0): 10, ("t", 1): 20, ("t", 2): 30}
    cluster.coordinator = {"gb": 2}
    cluster.described = {"gb": ("Stable", "roundrobin", [
        ("m-1", "client-a", "/10.0.0.1", {"t": [0, 2]}),
        ("m-2", "client-b", "/10.0.0.2", {"t": [1]})])}
    cluster.committed = {"gb": {("t", 0): 4, ("t", 2): 30}}
    cluster.once[(0, "FindCoordinator")] = [15]          # COORDINATOR_NOT_AVAILABLE once
    cluster.once[(2, "DescribeGroups")] = ["malformed"]
    cluster.once[(2, "ListOffsets")] = [6]               # NOT_LEADER_OR_FOLLOWER once
    r = run(rill_cli, cluster, "group", "describe", "gb")
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert lines(r)[0] == ("Group: gb  State: Stable  Protocol: consumer/roundrobin  "
                           "Coordinator: 2  Members: 2")
    members = [line.split() for line in text.split("\n\n")[1].splitlines()]
    assert members == [["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"],
                       ["m-1", "client-a", "/10.0.0.1", "t:0,2"],
                       ["m-2", "client-b", "/10.0.0.2", "t:1"]]
    parts = [line.split() for line in text.split("\n\n")[2].splitlines()]
    assert parts[1:] == [["t", "0", "4", "10", "6", "m-1", "/10.0.0.1", "client-a"],
                         ["t", "1", "-", "20", "-", "m-2", "/10.0.0.2", "client-b"],
                         ["t", "2", "30", "30", "0", "m-1", "/10.0.0.1", "client-a"]]
    # Group requests went to the coordinator only; ListOffsets to each leader with its own
    # partitions (broker 2 twice: NOT_LEADER_OR_FOLLOWER once, then answered).
    assert {e[0] for e in cluster.served("DescribeGroups")} == {2}
    assert {e[0] for e in cluster.served("OffsetFetch")} == {2}
    assert [e[2] for e in cluster.served("ListOffsets", 1)] == [[("t", 0, -1)]]
    assert [e[2] for e in cluster.served("ListOffsets", 2)] == [[("t", 1, -1), ("t", 2, -1)]] * 2


def test_not_coordinator_looks_up_the_coordinator_again(rill_cli, cluster):
    cluster.coordinator = {"gm": 2}
    cluster.described = {"gm": ("Empty", "", [])}
    cluster.committed = {"gm": {}}
    # Broker 1 is named first (a stale answer), refuses with NOT_COORDINATOR; the next
    # lookup names broker 2.
    stale = {"n": 1}
    real = cluster._FindCoordinator

    def find(bid, r, special):
        if stale["n"]:
            stale["n"] -= 1
            group = r.string()
            cluster._record(bid, "FindCoordinator", group)
            return s16(0) + s32(1) + sstr("127.0.0.1") + s32(cluster.ports[1])
        return real(bid, r, special)
    cluster._FindCoordinator = find
    r = run(rill_cli, cluster, "group", "delete", "gm")
    assert r.returncode == 0, r.stderr
    assert lines(r) == ['Deleted group "gm"']
    assert [e[0] for e in cluster.served("DeleteGroups")] == [1, 2]
    assert len(cluster.served("FindCoordinator")) == 2
    assert cluster.deleted == ["gm"]


def test_delete_group_errors_per_group(rill_cli, cluster):
    cluster.coordinator = {"busy": 1, "gone": 2}
    cluster.described = {"busy": ("Stable", "range", [("m", "c", "/h", {})])}
    r = run(rill_cli, cluster, "group", "delete", "busy", "gone")
    assert r.returncode == 1
    err = r.stderr.decode()
    assert '"busy": NON_EMPTY_GROUP' in err and '"gone": GROUP_ID_NOT_FOUND' in err, err
    assert r.stdout == b""


def test_create_topic_follows_the_controller(rill_cli, cluster):
    # Metadata names broker 1 as controller, but broker 2 is: broker 1 refuses with
    # NOT_CONTROLLER, the client asks Metadata again and sends to broker 2.
    cluster.controller, cluster.real_controller = 1, 2
    r = run(rill_cli, cluster, "topic", "create", "newt", "-p", "3")
    assert r.returncode == 0, r.stderr
    assert lines(r) == ['Created topic "newt"']
    assert cluster.created == [(2, "newt", 3, 1)]  # v0 has no broker default: 1 replica
    assert [e[0] for e in cluster.served("CreateTopics")] == [1, 2]
