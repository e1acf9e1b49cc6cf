"""test_cli_admin -- `rill topic list|describe|alter` and `rill group list|describe|delete`
against rill-broker (and librdkafka's mock cluster where it has the APIs), with the values
checked against what the cluster holds: partitions after alter, offsets after producing N
messages, a confluent_kafka consumer's membership, assignment, commits and lag.

Issue 4, item 3.  Exit codes: 0 done, 1 an error from the cluster, 2 bad usage (nothing
started, nothing on stdout).  These run in the ASan build too, so they are also the
sanitizer pass over librill's admin calls.
"""

import time

import pytest

import helpers


def out(r):
    return r.stdout.decode(errors="replace")


def err(r):
    return r.stderr.decode(errors="replace")


def ok(r):
    assert r.returncode == 0, "exit %d, stderr: %s" % (r.returncode, err(r))
    return out(r)


def failed(r, *needles):
    assert r.returncode == 1, "exit %d, stdout: %s stderr: %s" % (r.returncode, out(r), err(r))
    for n in needles:
        assert n in err(r), "%r not in stderr: %s" % (n, err(r))
    return r


def table(text, header):
    """Rows (lists of cells) of the table whose header row starts with `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.split()[:len(header)] == header:
            rows = []
            for row in lines[i + 1:]:
                if not row.strip():
                    break
                rows.append(row.split())
            return rows
    raise AssertionError("no table %r in:\n%s" % (header, text))


def produce(bootstrap, topic, partition, count):
    reports = helpers.confluent_produce(
        bootstrap, topic, [dict(value=b"m%d" % i, partition=partition) for i in range(count)])
    assert all(r[0] is None for r in reports), reports


# ---------------------------------------------------------------------------
# topics
# ---------------------------------------------------------------------------

def test_topic_list_describe_alter(rill_broker, rill_cli, topic_name):
    b = rill_broker()
    bs = ["-b", b.bootstrap]
    ok(rill_cli(["topic", "create", topic_name + "_a"] + bs))
    ok(rill_cli(["topic", "create", topic_name + "_b", "-p", "3", "-c", "retention.ms=4321000"]
                + bs))

    text = ok(rill_cli(["topic", "list"] + bs))
    assert text.splitlines()[0].split() == ["TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"]
    rows = table(text, ["TOPIC"])
    assert [topic_name + "_a", "1", "1", "no"] in rows
    assert [topic_name + "_b", "3", "1", "no"] in rows

    produce(b.bootstrap, topic_name + "_b", 1, 6)
    produce(b.bootstrap, topic_name + "_b", 2, 2)
    text = ok(rill_cli(["topic", "describe", topic_name + "_b"] + bs))
    assert text.startswith("Topic: %s  Partitions: 3  Replication: 1  Internal: no\n"
                           % (topic_name + "_b")), text
    assert table(text, ["PARTITION"]) == [["0", "0", "0", "0", "0", "0"],
                                           ["1", "0", "0", "0", "0", "6"],
                                           ["2", "0", "0", "0", "0", "2"]]
    configs = {row[0]: row[1:] for row in table(text, ["CONFIG", "VALUE", "SOURCE"])}
    assert configs["retention.ms"] == ["4321000", "topic"], configs
    assert configs["cleanup.policy"] == ["delete", "default"], configs

    r = ok(rill_cli(["topic", "alter", topic_name + "_b", "-p", "5"] + bs))
    assert r == 'Topic "%s" now has 5 partitions\n' % (topic_name + "_b")
    assert helpers.partitions_of(b.bootstrap, topic_name + "_b") == [0, 1, 2, 3, 4]
    text = ok(rill_cli(["topic", "describe", topic_name + "_b"] + bs))
    assert [row[0] for row in table(text, ["PARTITION"])] == ["0", "1", "2", "3", "4"]

    failed(rill_cli(["topic", "alter", topic_name + "_b", "-p", "2"] + bs),
           "INVALID_PARTITIONS")
    failed(rill_cli(["topic", "alter", topic_name + "_nosuch", "-p", "2"] + bs),
           "UNKNOWN_TOPIC_OR_PARTITION")
    # Two topics, one missing: the other is still described, and the exit says it failed.
    r = failed(rill_cli(["topic", "describe", topic_name + "_nosuch", topic_name + "_a"] + bs),
               '"%s_nosuch": UNKNOWN_TOPIC_OR_PARTITION' % topic_name)
    assert out(r).startswith("Topic: %s  Partitions: 1" % (topic_name + "_a")), out(r)
    # Describing never creates a topic.
    assert topic_name + "_nosuch" not in ok(rill_cli(["topic", "list"] + bs))


def test_topic_describe_on_mock_cluster(mock_cluster, rill_cli, topic_name):
    """The mock has Metadata and ListOffsets but no DescribeConfigs: partitions and offsets
    are shown, the configs are noted as unavailable, and that is not a failure."""
    mc = mock_cluster(brokers=3)
    mc.create_topic(topic_name, partitions=2, replication=3)
    mc.set_leader(topic_name, 1, 2)
    produce(mc.bootstrap, topic_name, 1, 4)
    bs = ["-b", mc.bootstrap]
    rows = table(ok(rill_cli(["topic", "list"] + bs)), ["TOPIC"])
    assert [topic_name, "2", "3", "no"] in rows
    r = rill_cli(["topic", "describe", topic_name] + bs)
    text = ok(r)
    rows = table(text, ["PARTITION"])
    assert rows[1][:2] == ["1", "2"] and rows[1][4:] == ["0", "4"], rows
    assert sorted(rows[0][2].split(",")) == ["1", "2", "3"]
    assert "UNSUPPORTED_FEATURE" in err(r) and "CONFIG" not in text


# ---------------------------------------------------------------------------
# groups
# ---------------------------------------------------------------------------

class Member:
    """A confluent_kafka consumer in the group that reads `count` messages and commits."""

    def __init__(self, bootstrap, group, topic, count):
        import confluent_kafka
        self.c = confluent_kafka.Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "client.id": "cli-admin-test",
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "log_level": 3,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        self.c.subscribe([topic])
        got, deadline = 0, time.monotonic() + 30
        while got < count:
            if time.monotonic() > deadline:
                self.close()
                raise helpers.HarnessError("member read %d of %d" % (got, count))
            m = self.c.poll(0.2)
            if m is not None:
                assert not m.error(), m.error()
                got += 1
        self.c.commit(asynchronous=False)

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def test_group_list_describe_delete(rill_broker, rill_cli, topic_name):
    b = rill_broker()
    bs = ["-b", b.bootstrap]
    group = "g_" + topic_name
    ok(rill_cli(["topic", "create", topic_name, "-p", "2"] + bs))
    produce(b.bootstrap, topic_name, 0, 5)
    member = Member(b.bootstrap, group, topic_name, 5)
    try:
        produce(b.bootstrap, topic_name, 0, 3)  # lag 3 on partition 0
        produce(b.bootstrap, topic_name, 1, 2)  # partition 1: nothing committed, end 2

        def stable():
            r = rill_cli(["group", "describe", group] + bs)
            return r if r.returncode == 0 and "State: Stable" in out(r) else None
        text = out(helpers.wait_for(stable, 20, interval=0.3, what="group Stable"))
        assert text.startswith("Group: %s  State: Stable  Protocol: consumer/" % group), text
        assert "Coordinator: 0  Members: 1\n" in text.splitlines()[0] + "\n"
        members = table(text, ["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"])
        assert len(members) == 1
        member_id, client_id, host, assignment = members[0]
        assert member_id.startswith("cli-admin-test-") and client_id == "cli-admin-test"
        assert host.endswith("127.0.0.1") and assignment == "%s:0,1" % topic_name
        lag = table(text, ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"])
        assert lag == [[topic_name, "0", "5", "8", "3", member_id, host, client_id],
                       [topic_name, "1", "-", "2", "-", member_id, host, client_id]]

        rows = table(ok(rill_cli(["group", "list"] + bs)), ["GROUP"])
        assert [group, "Stable", "consumer", "0"] in rows

        r = failed(rill_cli(["group", "delete", group] + bs), "NON_EMPTY_GROUP",
                   "still has members")
        assert out(r) == ""
    finally:
        member.close()

    text = ok(rill_cli(["group", "describe", group] + bs))
    assert "State: Empty" in text and "ASSIGNMENT" not in text
    assert table(text, ["TOPIC"]) == [[topic_name, "0", "5", "8", "3", "-", "-", "-"]]

    r = rill_cli(["group", "delete", group, group + "_nosuch"] + bs)
    failed(r, '"%s_nosuch": GROUP_ID_NOT_FOUND' % group)
    assert out(r) == 'Deleted group "%s"\n' % group
    assert group not in out(rill_cli(["group", "list"] + bs))
    failed(rill_cli(["group", "describe", group] + bs), "does not exist")


def test_group_list_empty_cluster(rill_broker, rill_cli):
    b = rill_broker()
    text = ok(rill_cli(["group", "list", "-b", b.bootstrap]))
    assert text.split() == ["GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR"]


def test_group_list_without_group_apis_fails(mock_cluster, rill_cli):
    mc = mock_cluster(brokers=1)
    r = failed(rill_cli(["group", "list", "-b", mc.bootstrap]), "UNSUPPORTED_FEATURE")
    assert out(r) == ""


# ---------------------------------------------------------------------------
# usage and unreachable clusters
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["group"], "group needs an action"),
    (["group", "rename"], 'unknown action "rename"'),
    (["group", "describe"], "group describe needs a group id"),
    (["group", "delete"], "group delete needs a group id"),
    (["group", "list", "extra"], "group list takes no argument"),
    (["group", "describe", ""], "cannot be empty"),
    (["group", "describe", "g", "-Z"], "unknown option -Z"),
    (["group", "list", "-X", "foo.bar=1"], "foo.bar"),
    (["topic", "list", "extra"], "topic list takes no argument"),
    (["topic", "describe"], "topic describe needs a topic name"),
    (["topic", "alter", "t"], "topic alter needs -p"),
    (["topic", "alter", "t", "-p", "0"], "-p expects a partition count"),
    (["topic", "alter", "t", "-p", "3", "--if-exists"], "--if-exists is for topic delete"),
    (["topic", "list", "-p", "3"], "unknown option -p"),
])
def test_usage_errors(rill_cli, args, needle):
    r = rill_cli(args)
    assert r.returncode == 2, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert out(r) == ""
    assert needle in err(r), err(r)


def test_help(rill_cli):
    for args in (["group", "-h"], ["help", "group"], ["group", "describe", "-h"]):
        text = ok(rill_cli(args))
        assert text.startswith("usage: rill group list"), text
    text = ok(rill_cli(["topic", "-h"]))
    assert "rill topic describe TOPIC..." in text and "rill topic alter TOPIC..." in text


@pytest.mark.parametrize("args", [
    ["topic", "list"], ["topic", "describe", "t"], ["topic", "alter", "t", "-p", "3"],
    ["group", "list"], ["group", "describe", "g"], ["group", "delete", "g"],
])
def test_unreachable_cluster_fails(rill_cli, args):
    port = helpers.closed_port()
    t0 = time.monotonic()
    r = rill_cli(args + ["-b", "127.0.0.1:%d" % port, "-X", "request.timeout.ms=1000"],
                 timeout=30)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert "TIMED_OUT" in err(r), err(r)
    assert time.monotonic() - t0 < 15
