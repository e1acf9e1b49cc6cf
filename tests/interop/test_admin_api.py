"""test_admin_api -- librill's admin calls (include/rill.h, Admin), called through ctypes
against rill-broker and librdkafka's mock cluster, checked against what the brokers really
hold: partition counts after create partitions, offsets after producing N messages with
known timestamps, a confluent_kafka consumer's group membership, assignment and commits.

Issue 4, item 2.  The mock cluster (librdkafka 2.0.2) has no CreateTopics, CreatePartitions,
DescribeConfigs or group listing APIs: there the calls must fail fast with
UNSUPPORTED_FEATURE; what it does have (Metadata, ListOffsets, FindCoordinator, OffsetFetch)
is used for leader moves and injected retriable errors.

The ASan build's librill.so can only be loaded into a Python that has the sanitizer
runtimes preloaded: there the tests rerun themselves in a child pytest with LD_PRELOAD set
(and leak detection off, since Python itself does not free everything at exit; the leak
checks of these calls are test_cli_admin.py's and unit.test_admin's).
"""

import ctypes
import os
import subprocess
import sys
import time

import pytest

import helpers

# ---------------------------------------------------------------------------
# ctypes mirror of the Admin section of include/rill.h
# ---------------------------------------------------------------------------

c_char_p, c_int, c_int16, c_int32, c_int64, c_size_t, c_void_p = (
    ctypes.c_char_p, ctypes.c_int, ctypes.c_int16, ctypes.c_int32, ctypes.c_int64,
    ctypes.c_size_t, ctypes.c_void_p)
P = ctypes.POINTER


class TopicResult(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 256), ("err", c_int), ("errstr", ctypes.c_char * 256)]


class TopicConfig(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


class NewTopic(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("num_partitions", c_int32), ("replication_factor", c_int16),
                ("configs", P(TopicConfig)), ("config_cnt", c_size_t)]


class NewPartitions(ctypes.Structure):
    _fields_ = [("topic", c_char_p), ("total_count", c_int32)]


class TopicPartition(ctypes.Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("offset", c_int64),
                ("err", c_int)]


class BrokerInfo(ctypes.Structure):
    _fields_ = [("id", c_int32), ("host", c_char_p), ("port", c_int), ("rack", c_char_p)]


class PartitionInfo(ctypes.Structure):
    _fields_ = [("partition", c_int32), ("err", c_int), ("leader", c_int32),
                ("replicas", P(c_int32)), ("replica_cnt", c_size_t),
                ("isr", P(c_int32)), ("isr_cnt", c_size_t)]


class TopicInfo(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("err", c_int), ("internal", c_int),
                ("partitions", P(PartitionInfo)), ("partition_cnt", c_size_t)]


class TopicList(ctypes.Structure):
    _fields_ = [("cluster_id", c_char_p), ("controller_id", c_int32),
                ("brokers", P(BrokerInfo)), ("broker_cnt", c_size_t),
                ("topics", P(TopicInfo)), ("topic_cnt", c_size_t)]


class ConfigEntry(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p), ("read_only", c_int),
                ("is_default", c_int), ("is_sensitive", c_int), ("source", c_int)]


class ConfigResource(ctypes.Structure):
    _fields_ = [("type", c_int), ("name", c_char_p)]


class ResourceConfigs(ctypes.Structure):
    _fields_ = [("type", c_int), ("name", c_char_p), ("err", c_int), ("errstr", c_char_p),
                ("entries", P(ConfigEntry)), ("entry_cnt", c_size_t)]


class Configs(ctypes.Structure):
    _fields_ = [("resources", P(ResourceConfigs)), ("resource_cnt", c_size_t)]


class GroupListing(ctypes.Structure):
    _fields_ = [("group_id", c_char_p), ("protocol_type", c_char_p), ("state", c_char_p),
                ("coordinator", c_int32)]


class GroupList(ctypes.Structure):
    _fields_ = [("groups", P(GroupListing)), ("group_cnt", c_size_t)]


class MemberInfo(ctypes.Structure):
    _fields_ = [("member_id", c_char_p), ("group_instance_id", c_char_p),
                ("client_id", c_char_p), ("host", c_char_p),
                ("assignment", P(TopicPartition)), ("assignment_cnt", c_size_t)]


class GroupInfo(ctypes.Structure):
    _fields_ = [("group_id", c_char_p), ("err", c_int), ("state", c_char_p),
                ("protocol_type", c_char_p), ("protocol", c_char_p), ("coordinator", c_int32),
                ("members", P(MemberInfo)), ("member_cnt", c_size_t)]


class GroupDescriptions(ctypes.Structure):
    _fields_ = [("groups", P(GroupInfo)), ("group_cnt", c_size_t)]


class OffsetQuery(ctypes.Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("spec", c_int64),
                ("err", c_int), ("offset", c_int64), ("timestamp", c_int64)]


class PartitionLag(ctypes.Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("err", c_int),
                ("committed", c_int64), ("end_offset", c_int64), ("lag", c_int64),
                ("member_id", c_char_p)]


class GroupLag(ctypes.Structure):
    _fields_ = [("group_id", c_char_p), ("partitions", P(PartitionLag)),
                ("partition_cnt", c_size_t)]


# Error codes used below (Kafka's numbers; local ones from rill.h).
TIMED_OUT, INVALID_ARG, UNSUPPORTED_FEATURE = -102, -104, -112
UNKNOWN_TOPIC_OR_PARTITION, BROKER_NOT_AVAILABLE, INVALID_PARTITIONS = 3, 8, 37
NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND = 68, 69
OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID = -2, -1, -1001
RESOURCE_TOPIC, RESOURCE_BROKER = 2, 4
SOURCE_TOPIC, SOURCE_DEFAULT = 1, 5


def _library_path():
    return helpers.build_path("librill.so")


def _sanitizer_runtimes(path):
    """The sanitizer runtimes (paths) an instrumented library links, [] for a plain one."""
    try:
        out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=10).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split("=>")[1].split()[0] for line in out.splitlines()
            if "=>" in line and ("libasan" in line or "libubsan" in line)]


def _load():
    """(library, None), or (None, runtimes to preload) when this Python cannot load it."""
    path = _library_path()
    if not os.path.isfile(path):
        raise helpers.HarnessError("librill.so not found at %s (build it with `make build`)"
                                   % path)
    runtimes = _sanitizer_runtimes(path)
    preloaded = os.environ.get("LD_PRELOAD", "")
    if any(os.path.basename(r) not in preloaded for r in runtimes):
        return None, runtimes
    lib = ctypes.CDLL(path)
    sig = {
        "rill_conf_new": (c_void_p, []),
        "rill_conf_destroy": (None, [c_void_p]),
        "rill_conf_set": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t]),
        "rill_admin_new": (c_void_p, [c_void_p, c_char_p, c_size_t]),
        "rill_admin_destroy": (None, [c_void_p]),
        "rill_admin_create_topics": (c_int, [c_void_p, P(NewTopic), c_size_t, c_int,
                                             P(TopicResult)]),
        "rill_admin_create_partitions": (c_int, [c_void_p, P(NewPartitions), c_size_t, c_int,
                                                 P(TopicResult)]),
        "rill_admin_list_topics": (c_int, [c_void_p, P(c_char_p), c_size_t, c_int,
                                           P(P(TopicList))]),
        "rill_topic_list_free": (None, [P(TopicList)]),
        "rill_admin_describe_configs": (c_int, [c_void_p, P(ConfigResource), c_size_t, c_int,
                                                P(P(Configs))]),
        "rill_configs_free": (None, [P(Configs)]),
        "rill_admin_list_groups": (c_int, [c_void_p, c_int, P(P(GroupList))]),
        "rill_group_list_free": (None, [P(GroupList)]),
        "rill_admin_describe_groups": (c_int, [c_void_p, P(c_char_p), c_size_t, c_int,
                                               P(P(GroupDescriptions))]),
        "rill_group_descriptions_free": (None, [P(GroupDescriptions)]),
        "rill_admin_delete_groups": (c_int, [c_void_p, P(c_char_p), c_size_t, c_int,
                                             P(TopicResult)]),
        "rill_admin_list_offsets": (c_int, [c_void_p, P(OffsetQuery), c_size_t, c_int, c_int]),
        "rill_admin_group_lag": (c_int, [c_void_p, c_char_p, P(TopicPartition), c_size_t, c_int,
                                         P(P(GroupLag))]),
        "rill_group_lag_free": (None, [P(GroupLag)]),
        "rill_err_name": (c_char_p, [c_int]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib, None


LIB, PRELOAD = _load()


def s(b):
    return None if b is None else b.decode()


def names_array(names):
    arr = (c_char_p * max(1, len(names)))()
    for i, n in enumerate(names):
        arr[i] = n.encode()
    return arr


def err_name(e):
    return LIB.rill_err_name(e).decode()


class Admin:
    """A rill_admin_t for one bootstrap; every call returns plain Python values."""

    def __init__(self, bootstrap, **conf):
        self.conf = LIB.rill_conf_new()
        errbuf = ctypes.create_string_buffer(512)
        for k, v in dict({"bootstrap.servers": bootstrap}, **conf).items():
            assert LIB.rill_conf_set(self.conf, k.encode(), str(v).encode(), errbuf, 512) == 0, \
                errbuf.value
        self.h = LIB.rill_admin_new(self.conf, errbuf, 512)
        assert self.h, errbuf.value

    def close(self):
        if self.h:
            LIB.rill_admin_destroy(self.h)
            LIB.rill_conf_destroy(self.conf)
            self.h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def create_topics(self, topics, timeout=10000):
        """topics: [(name, partitions, {config: value})] -> (rc, [(name, err, errstr)])."""
        keep = []
        arr = (NewTopic * len(topics))()
        for i, (name, parts, cfg) in enumerate(topics):
            cfgs = (TopicConfig * max(1, len(cfg)))()
            for j, (k, v) in enumerate(cfg.items()):
                cfgs[j] = TopicConfig(k.encode(), v.encode())
            keep.append(cfgs)
            arr[i] = NewTopic(name.encode(), parts, -1, cfgs, len(cfg))
        res = (TopicResult * len(topics))()
        rc = LIB.rill_admin_create_topics(self.h, arr, len(topics), timeout, res)
        return rc, [(r.name.decode(), r.err, r.errstr.decode()) for r in res]

    def create_partitions(self, counts, timeout=10000):
        arr = (NewPartitions * len(counts))()
        for i, (t, n) in enumerate(counts):
            arr[i] = NewPartitions(t.encode(), n)
        res = (TopicResult * len(counts))()
        rc = LIB.rill_admin_create_partitions(self.h, arr, len(counts), timeout, res)
        return rc, [(r.name.decode(), r.err, r.errstr.decode()) for r in res]

    def list_topics(self, names=None, timeout=10000):
        out = P(TopicList)()
        arr = names_array(names) if names is not None else None
        rc = LIB.rill_admin_list_topics(self.h, arr, len(names or []), timeout,
                                        ctypes.byref(out))
        if not out:
            return rc, None
        l = out.contents
        result = {
            "cluster_id": s(l.cluster_id), "controller": l.controller_id,
            "brokers": [(b.id, s(b.host), b.port, s(b.rack))
                        for b in l.brokers[:l.broker_cnt]],
            "topics": [{"name": s(t.name), "err": t.err, "internal": t.internal,
                        "partitions": [(p.partition, p.err, p.leader,
                                        list(p.replicas[:p.replica_cnt]),
                                        list(p.isr[:p.isr_cnt]))
                                       for p in t.partitions[:t.partition_cnt]]}
                       for t in l.topics[:l.topic_cnt]],
        }
        LIB.rill_topic_list_free(out)
        return rc, result

    def describe_configs(self, resources, timeout=10000):
        arr = (ConfigResource * max(1, len(resources)))()
        for i, (typ, name) in enumerate(resources):
            arr[i] = ConfigResource(typ, name.encode())
        out = P(Configs)()
        rc = LIB.rill_admin_describe_configs(self.h, arr, len(resources), timeout,
                                             ctypes.byref(out))
        if not out:
            return rc, None
        result = [{"type": r.type, "name": s(r.name), "err": r.err, "errstr": s(r.errstr),
                   "entries": {s(e.name): (s(e.value), e.read_only, e.is_default,
                                           e.is_sensitive, e.source)
                               for e in r.entries[:r.entry_cnt]}}
                  for r in out.contents.resources[:out.contents.resource_cnt]]
        LIB.rill_configs_free(out)
        return rc, result

    def list_groups(self, timeout=10000):
        out = P(GroupList)()
        rc = LIB.rill_admin_list_groups(self.h, timeout, ctypes.byref(out))
        if not out:
            return rc, None
        result = [(s(g.group_id), s(g.protocol_type), s(g.state), g.coordinator)
                  for g in out.contents.groups[:out.contents.group_cnt]]
        LIB.rill_group_list_free(out)
        return rc, result

    def describe_groups(self, groups, timeout=10000):
        out = P(GroupDescriptions)()
        rc = LIB.rill_admin_describe_groups(self.h, names_array(groups), len(groups), timeout,
                                            ctypes.byref(out))
        if not out:
            return rc, None
        result = []
        for g in out.contents.groups[:out.contents.group_cnt]:
            members = [{"member_id": s(m.member_id), "instance": s(m.group_instance_id),
                        "client_id": s(m.client_id), "host": s(m.host),
                        "assignment": sorted((s(tp.topic), tp.partition)
                                             for tp in m.assignment[:m.assignment_cnt])}
                       for m in g.members[:g.member_cnt]]
            result.append({"group_id": s(g.group_id), "err": g.err, "state": s(g.state),
                           "protocol_type": s(g.protocol_type), "protocol": s(g.protocol),
                           "coordinator": g.coordinator, "members": members})
        LIB.rill_group_descriptions_free(out)
        return rc, result

    def delete_groups(self, groups, timeout=10000):
        res = (TopicResult * len(groups))()
        rc = LIB.rill_admin_delete_groups(self.h, names_array(groups), len(groups), timeout, res)
        return rc, [(r.name.decode(), r.err) for r in res]

    def list_offsets(self, queries, read_committed=False, timeout=10000):
        """queries: [(topic, partition, spec)] -> (rc, [(err, offset, timestamp)])."""
        arr = (OffsetQuery * max(1, len(queries)))()
        for i, (t, p, spec) in enumerate(queries):
            arr[i] = OffsetQuery(t.encode(), p, spec, 12345, 777, 777)
        rc = LIB.rill_admin_list_offsets(self.h, arr, len(queries), int(read_committed), timeout)
        return rc, [(q.err, q.offset, q.timestamp) for q in arr[:len(queries)]]

    def group_lag(self, group, parts=None, timeout=10000):
        arr = None
        if parts is not None:
            arr = (TopicPartition * max(1, len(parts)))()
            for i, (t, p) in enumerate(parts):
                arr[i] = TopicPartition(t.encode(), p, 0, 0)
        out = P(GroupLag)()
        rc = LIB.rill_admin_group_lag(self.h, group.encode(), arr, len(parts or []), timeout,
                                      ctypes.byref(out))
        if not out:
            return rc, None
        result = [(s(p.topic), p.partition, p.err, p.committed, p.end_offset, p.lag,
                   s(p.member_id))
                  for p in out.contents.partitions[:out.contents.partition_cnt]]
        assert s(out.contents.group_id) == group
        LIB.rill_group_lag_free(out)
        return rc, result


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def produce(bootstrap, topic, partition, count, ts0=None):
    """count messages to one partition; message i has timestamp ts0 + 1000*i if ts0."""
    msgs = [dict(value=b"v%d" % i, partition=partition) for i in range(count)]
    if ts0 is not None:
        for i, m in enumerate(msgs):
            m["timestamp"] = ts0 + 1000 * i
    reports = helpers.confluent_produce(bootstrap, topic, msgs)
    assert all(r[0] is None for r in reports), reports
    return reports


class GroupMember:
    """A confluent_kafka consumer in `group`, subscribed to `topic`, that reads
    `count` messages and commits them synchronously; stays in the group until close()."""

    def __init__(self, bootstrap, group, topic, count, client_id="admin-test", timeout=30.0):
        import confluent_kafka
        self.c = confluent_kafka.Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "client.id": client_id,
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "log_level": 3,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        self.c.subscribe([topic])
        got = 0
        deadline = time.monotonic() + timeout
        while got < count:
            if time.monotonic() > deadline:
                self.close()
                raise helpers.HarnessError("member read %d of %d messages" % (got, count))
            m = self.c.poll(0.2)
            if m is None:
                continue
            assert not m.error(), m.error()
            got += 1
        self.c.commit(asynchronous=False)  # the positions: exactly what was read
        self.assignment = sorted((tp.topic, tp.partition) for tp in self.c.assignment())

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def wait_stable(adm, group, timeout=20.0):
    """The group's description once it is Stable (members joined and synced)."""
    def stable():
        rc, d = adm.describe_groups([group])
        return d[0] if rc == 0 and d[0]["state"] == "Stable" else None
    return helpers.wait_for(stable, timeout, interval=0.2, what="group %s Stable" % group)


# ---------------------------------------------------------------------------
# topics
# ---------------------------------------------------------------------------

def test_list_topics_and_create_partitions(rill_broker, topic_name):
    b = rill_broker()
    with Admin(b.bootstrap) as adm:
        rc, res = adm.create_topics([(topic_name + "_a", 1, {}), (topic_name + "_b", 3, {})])
        assert rc == 0 and [r[1] for r in res] == [0, 0], res

        rc, md = adm.list_topics()
        assert rc == 0
        assert md["controller"] == 0 and md["cluster_id"]
        assert md["brokers"] == [(0, b.host, b.port, None)]
        topics = {t["name"]: t for t in md["topics"]}
        assert [t["name"] for t in md["topics"]] == sorted(topics)  # sorted by name
        a, bt = topics[topic_name + "_a"], topics[topic_name + "_b"]
        assert a["err"] == 0 and a["internal"] == 0
        assert a["partitions"] == [(0, 0, 0, [0], [0])]
        assert bt["partitions"] == [(p, 0, 0, [0], [0]) for p in range(3)]

        # Grow b to 5 partitions; shrinking, keeping the count and unknown topics fail per topic.
        rc, res = adm.create_partitions([(topic_name + "_b", 5), (topic_name + "_a", 1),
                                         (topic_name + "_nosuch", 4)])
        assert rc == 0
        assert [r[0] for r in res] == [topic_name + "_b", topic_name + "_a",
                                       topic_name + "_nosuch"]
        assert res[0][1] == 0, res
        assert res[1][1] == INVALID_PARTITIONS and res[1][2], res
        assert res[2][1] == UNKNOWN_TOPIC_OR_PARTITION, res

        # Named topics come back in the order asked; an unknown one is not created.
        rc, md = adm.list_topics([topic_name + "_nosuch", topic_name + "_b"])
        assert rc == 0
        assert [(t["name"], t["err"]) for t in md["topics"]] == [
            (topic_name + "_nosuch", UNKNOWN_TOPIC_OR_PARTITION), (topic_name + "_b", 0)]
        assert [p[0] for p in md["topics"][1]["partitions"]] == [0, 1, 2, 3, 4]
        assert helpers.partitions_of(b.bootstrap, topic_name + "_b") == [0, 1, 2, 3, 4]
        rc, md = adm.list_topics()
        assert topic_name + "_nosuch" not in [t["name"] for t in md["topics"]]


def test_describe_configs_topic_and_broker(rill_broker, topic_name):
    b = rill_broker()
    with Admin(b.bootstrap) as adm:
        rc, res = adm.create_topics([(topic_name, 1, {"retention.ms": "123456789"})])
        assert rc == 0 and res[0][1] == 0, res
        rc, cfg = adm.describe_configs([(RESOURCE_TOPIC, topic_name), (RESOURCE_BROKER, "0"),
                                        (RESOURCE_TOPIC, topic_name + "_nosuch"),
                                        (RESOURCE_BROKER, "7")])
        assert rc == 0, err_name(rc)
        topic, broker, missing, nobroker = cfg
        assert (topic["type"], topic["name"], topic["err"], topic["errstr"]) == \
            (RESOURCE_TOPIC, topic_name, 0, "")
        value, read_only, is_default, sensitive, source = topic["entries"]["retention.ms"]
        assert (value, is_default, source) == ("123456789", 0, SOURCE_TOPIC)
        assert topic["entries"]["cleanup.policy"][0] == "delete"
        assert topic["entries"]["cleanup.policy"][2] == 1  # not set on the topic: a default
        assert broker["err"] == 0 and broker["name"] == "0" and broker["entries"], broker
        assert missing["err"] == UNKNOWN_TOPIC_OR_PARTITION, missing
        assert nobroker["err"] == BROKER_NOT_AVAILABLE, nobroker
        # A broker resource must name a broker id.
        rc, cfg = adm.describe_configs([(RESOURCE_BROKER, "zero")])
        assert rc == INVALID_ARG and cfg is None


def test_list_offsets_earliest_latest_and_by_time(rill_broker, topic_name):
    b = rill_broker()
    ts0 = 1700000000000
    with Admin(b.bootstrap) as adm:
        assert adm.create_topics([(topic_name, 2, {})])[0] == 0
        produce(b.bootstrap, topic_name, 1, 10, ts0=ts0)
        q = [(topic_name, 0, OFFSET_BEGINNING), (topic_name, 0, OFFSET_END),
             (topic_name, 1, OFFSET_BEGINNING), (topic_name, 1, OFFSET_END),
             (topic_name, 1, ts0), (topic_name, 1, ts0 + 3500), (topic_name, 1, ts0 + 9000),
             (topic_name, 1, ts0 + 60000), (topic_name, 7, OFFSET_END),
             (topic_name + "_nosuch", 0, OFFSET_END)]
        rc, res = adm.list_offsets(q)
        assert rc == 0
        assert res[0] == (0, 0, -1) and res[1] == (0, 0, -1)
        assert res[2] == (0, 0, -1) and res[3] == (0, 10, -1)
        assert res[4] == (0, 0, ts0)                 # exactly the first timestamp
        assert res[5] == (0, 4, ts0 + 4000)          # first record at or after the time
        assert res[6] == (0, 9, ts0 + 9000)
        assert res[7][:2] == (0, -1)                 # after the last record: none
        assert res[8][0] == UNKNOWN_TOPIC_OR_PARTITION
        assert res[9][0] == UNKNOWN_TOPIC_OR_PARTITION
        rc, res = adm.list_offsets([(topic_name, 1, OFFSET_END)], read_committed=True)
        assert rc == 0 and res == [(0, 10, -1)]
        assert adm.list_offsets([(topic_name, -1, OFFSET_END)])[0] == INVALID_ARG


# ---------------------------------------------------------------------------
# groups
# ---------------------------------------------------------------------------

def test_groups_list_describe_lag_delete(rill_broker, topic_name):
    b = rill_broker()
    group = "g_" + topic_name
    with Admin(b.bootstrap) as adm:
        assert adm.create_topics([(topic_name, 3, {})])[0] == 0
        produce(b.bootstrap, topic_name, 0, 7)
        produce(b.bootstrap, topic_name, 2, 5)
        member = GroupMember(b.bootstrap, group, topic_name, count=12, client_id="lagcheck")
        try:
            g = wait_stable(adm, group)
            assert (g["group_id"], g["err"], g["protocol_type"]) == (group, 0, "consumer")
            assert g["protocol"] in ("range", "roundrobin", "cooperative-sticky"), g
            assert g["coordinator"] == 0
            assert len(g["members"]) == 1
            m = g["members"][0]
            assert m["member_id"].startswith("lagcheck-") and m["client_id"] == "lagcheck"
            assert m["host"].endswith("127.0.0.1") and m["instance"] is None
            assert m["assignment"] == [(topic_name, p) for p in range(3)] == member.assignment

            rc, groups = adm.list_groups()
            assert rc == 0
            assert (group, "consumer", "Stable", 0) in groups

            # Committed: 7 on p0 and 5 on p2 (all read); p1 empty and never committed.
            produce(b.bootstrap, topic_name, 0, 3)  # lag 3 on p0
            rc, lag = adm.group_lag(group)
            assert rc == 0
            assert lag == [(topic_name, 0, 0, 7, 10, 3, m["member_id"]),
                           (topic_name, 1, 0, OFFSET_INVALID, 0, -1, m["member_id"]),
                           (topic_name, 2, 0, 5, 5, 0, m["member_id"])]
            # Exactly the partitions asked for.
            rc, lag = adm.group_lag(group, [(topic_name, 2), (topic_name, 0)])
            assert rc == 0
            assert [(r[0], r[1], r[3], r[4], r[5]) for r in lag] == [
                (topic_name, 0, 7, 10, 3), (topic_name, 2, 5, 5, 0)]

            # A group with a member cannot be deleted.
            rc, res = adm.delete_groups([group])
            assert rc == 0 and res == [(group, NON_EMPTY_GROUP)]
        finally:
            member.close()

        rc, d = adm.describe_groups([group])
        assert rc == 0 and d[0]["state"] == "Empty" and d[0]["members"] == []
        rc, lag = adm.group_lag(group)  # the offsets stay, with no member
        assert rc == 0 and [(r[1], r[3], r[6]) for r in lag] == [(0, 7, None), (2, 5, None)]

        rc, res = adm.delete_groups([group, group + "_nosuch"])
        assert rc == 0
        assert res == [(group, 0), (group + "_nosuch", GROUP_ID_NOT_FOUND)]
        rc, groups = adm.list_groups()
        assert rc == 0 and group not in [g[0] for g in groups]
        rc, d = adm.describe_groups([group])
        assert rc == 0
        assert d[0]["err"] == GROUP_ID_NOT_FOUND or (d[0]["state"] == "Dead"
                                                     and not d[0]["members"]), d
        rc, lag = adm.group_lag(group)
        assert rc == 0 and lag == []


def test_list_groups_merges_every_broker(rill_broker):
    """ListGroups goes to every broker (one here): an empty cluster lists nothing."""
    b = rill_broker()
    with Admin(b.bootstrap) as adm:
        rc, groups = adm.list_groups()
        assert rc == 0 and groups == []


# ---------------------------------------------------------------------------
# librdkafka's mock cluster: leader moves, injected errors, missing APIs
# ---------------------------------------------------------------------------

def test_mock_list_offsets_follows_leader_and_retries(mock_cluster, topic_name):
    mc = mock_cluster(brokers=3)
    mc.create_topic(topic_name, partitions=2, replication=3)
    produce(mc.bootstrap, topic_name, 1, 6)
    with Admin(mc.bootstrap) as adm:
        rc, md = adm.list_topics([topic_name])
        assert rc == 0 and md["topics"][0]["partitions"][1][3] == [1, 2, 3]
        assert sorted(b[0] for b in md["brokers"]) == [1, 2, 3]
        for leader in (1, 2, 3):
            mc.set_leader(topic_name, 1, leader)
            rc, md = adm.list_topics([topic_name])
            assert md["topics"][0]["partitions"][1][2] == leader
            rc, res = adm.list_offsets([(topic_name, 1, OFFSET_END),
                                        (topic_name, 1, OFFSET_BEGINNING)])
            assert rc == 0 and res == [(0, 6, -1), (0, 0, -1)], (leader, res)
        # Retriable partition errors are asked again (after a metadata refresh).
        mc.push_errors("listoffsets", "NOT_LEADER_OR_FOLLOWER", 2)
        rc, res = adm.list_offsets([(topic_name, 1, OFFSET_END)])
        assert rc == 0 and res == [(0, 6, -1)]
        # A non-retriable one is the answer.
        mc.push_errors("listoffsets", "TOPIC_AUTHORIZATION_FAILED", 1)
        rc, res = adm.list_offsets([(topic_name, 1, OFFSET_END)])
        assert rc == 0 and res[0][0] == 29, res


def test_mock_group_lag_with_coordinator_errors(mock_cluster, topic_name):
    mc = mock_cluster(brokers=3)
    mc.create_topic(topic_name, partitions=2, replication=1)
    group = "g_" + topic_name
    mc.cmd("coordinator group %s 2" % group)
    produce(mc.bootstrap, topic_name, 0, 4)
    produce(mc.bootstrap, topic_name, 1, 2)
    member = GroupMember(mc.bootstrap, group, topic_name, count=6)
    member.close()
    with Admin(mc.bootstrap) as adm:
        parts = [(topic_name, 0), (topic_name, 1)]
        # (The mock answers a FindCoordinator error with a null Host, which librill reads
        # as malformed: retried all the same.)
        mc.push_errors("findcoordinator", "COORDINATOR_NOT_AVAILABLE", 2)
        mc.push_errors("offsetfetch", "NOT_COORDINATOR", 1)
        mc.push_errors("offsetfetch", "COORDINATOR_LOAD_IN_PROGRESS", 1)
        produce(mc.bootstrap, topic_name, 1, 3)
        rc, lag = adm.group_lag(group, parts)
        assert rc == 0, err_name(rc)
        assert [r[:6] for r in lag] == [(topic_name, 0, 0, 4, 4, 0), (topic_name, 1, 0, 2, 5, 3)]
        # The injections do reach OffsetFetch: a non-retriable error is the answer.
        mc.push_errors("offsetfetch", "GROUP_AUTHORIZATION_FAILED", 1)
        rc, lag = adm.group_lag(group, parts)
        assert rc == 30, err_name(rc)


def test_mock_missing_apis_fail_fast(mock_cluster, topic_name):
    mc = mock_cluster(brokers=1)
    mc.create_topic(topic_name, partitions=1)
    with Admin(mc.bootstrap) as adm:
        t0 = time.monotonic()
        rc, res = adm.create_partitions([(topic_name, 3)])
        assert rc == UNSUPPORTED_FEATURE and res[0][1] == UNSUPPORTED_FEATURE
        rc, cfg = adm.describe_configs([(RESOURCE_TOPIC, topic_name)])
        assert rc == UNSUPPORTED_FEATURE and cfg[0]["err"] == UNSUPPORTED_FEATURE
        rc, groups = adm.list_groups()
        assert rc == UNSUPPORTED_FEATURE and groups == []
        rc, d = adm.describe_groups(["g"])
        assert rc == UNSUPPORTED_FEATURE and d[0]["err"] == UNSUPPORTED_FEATURE
        rc, res = adm.delete_groups(["g"])
        assert rc == UNSUPPORTED_FEATURE and res[0][1] == UNSUPPORTED_FEATURE
        assert time.monotonic() - t0 < 5


def test_unreachable_cluster_times_out():
    port = helpers.closed_port()
    with Admin("127.0.0.1:%d" % port) as adm:
        t0 = time.monotonic()
        rc, md = adm.list_topics(timeout=1000)
        assert rc == TIMED_OUT and md["topics"] == []
        rc, res = adm.list_offsets([("t", 0, OFFSET_END)], timeout=1000)
        assert rc == TIMED_OUT and res[0][0] == TIMED_OUT
        rc, lag = adm.group_lag("g", timeout=1000)
        assert rc == TIMED_OUT
        rc, d = adm.describe_groups(["g"], timeout=1000)
        assert rc == TIMED_OUT and d[0]["err"] == TIMED_OUT
        rc, res = adm.create_partitions([("t", 2)], timeout=1000)
        assert rc == TIMED_OUT and res[0][1] == TIMED_OUT
        assert time.monotonic() - t0 < 10


# ---------------------------------------------------------------------------
# the ASan build: run every test above in a Python with the sanitizer runtimes
# ---------------------------------------------------------------------------

if PRELOAD:
    for _name, _obj in list(globals().items()):
        if _name.startswith("test_") and callable(_obj):
            _obj.__test__ = False  # collected in the child instead

    @pytest.mark.timeout(400)
    def test_under_sanitizer_runtimes():
        env = dict(os.environ)
        env["LD_PRELOAD"] = " ".join(PRELOAD + [env.get("LD_PRELOAD", "")]).strip()
        opts = [o for o in env.get("ASAN_OPTIONS", "").split(":")
                if o and not o.startswith("detect_leaks=")]
        env["ASAN_OPTIONS"] = ":".join(opts + ["detect_leaks=0"])
        try:
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "-x", os.path.abspath(__file__)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=380)
        except subprocess.TimeoutExpired as e:
            raise helpers.HarnessError("child pytest did not finish: %r"
                                       % (e.stdout or b"")[-4000:]) from None
        output = r.stdout.decode(errors="replace")
        assert r.returncode == 0, output[-6000:]
        assert " passed" in output and "skipped" not in output, output[-2000:]
