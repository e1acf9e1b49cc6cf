"""test_cli_consume -- `rill consume` and `rill perf consume`.

Usage errors (exit 2, nothing started), the kcat-like -f format token by token
(checked against kcat reading the same topic), -e, -c, -o, -p, -g with commit on exit
and resume, SIGINT/SIGTERM (clean close, positions committed), errors (exit 1), and the
one-line result of `rill perf consume`.  Against rill-broker, except where noted.
"""

import re
import signal
import subprocess
import time

import pytest

import helpers
from test_consume_interop import Target
from test_consume_groups import committed, produce_values

PERF_RE = re.compile(r"^(\d+) msgs x (\d+) B in ([\d.]+) s: ([\d.]+) msgs/s ([\d.]+) MB/s "
                     r"cpu=([\d.]+) s \(([\d.]+) ns/msg\) maxrss=(\d+) KiB "
                     r"delivered=(\d+) failed=(\d+)$")


def err(r):
    return r.stderr.decode(errors="replace")


@pytest.fixture
def broker(mock_cluster, rill_broker):
    return Target("rill-broker", mock_cluster, rill_broker)


# --------------------------------------------------------------------------
# Usage
# --------------------------------------------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["consume"], "-t TOPIC is required"),
    (["consume", "-t", "t", "-p", "x"], "-p expects a partition number"),
    (["consume", "-t", "t", "-o", "middle"], "-o expects beginning, end, stored or an offset"),
    (["consume", "-t", "t", "-o", "-5"], "-o expects beginning, end, stored or an offset"),
    (["consume", "-t", "t", "-c", "0"], "-c expects a message count >= 1"),
    (["consume", "-t", "t", "-g", "g", "-p", "1"], "-p cannot be used with -g"),
    (["consume", "-t", "t", "-g", "g", "-o", "5"], "with -g, -o takes beginning or end"),
    (["consume", "-t", "t", "-o", "stored"], "-o stored needs the group"),
    (["consume", "-t", "t", "-f", "%x"], "unknown format token %x"),
    (["consume", "-t", "t", "-f", "abc%"], "lone %"),
    (["consume", "-t", "t", "-f", "\\q"], "unknown escape \\q"),
    (["consume", "-t", "t", "-f", "\\x4"], "\\x needs two hex digits"),
    (["consume", "-t", "t", "extra"], 'unexpected argument "extra"'),
    (["consume", "-t", "t", "-X", "fetch.min.bytes=0"], "fetch.min.bytes"),
    (["consume", "-t", "t", "-Z"], "unknown option -Z"),
    (["perf", "consume", "-n", "5"], "-t TOPIC is required"),
    (["perf", "consume", "-t", "t", "-s", "100"], "-s is for perf produce"),
    (["perf", "consume", "-t", "t", "-n", "0"], "-n expects a message count >= 1"),
])
def test_usage_errors(rill_cli, args, needle):
    r = rill_cli(args)
    assert r.returncode == 2, "exit %d: %s" % (r.returncode, err(r))
    assert needle in err(r), err(r)
    assert r.stdout == b""


def test_help(rill_cli):
    r = rill_cli(["consume", "-h"])
    assert r.returncode == 0
    for opt in ("-t TOPIC", "-g GROUP", "-p PARTITION", "-o OFFSET", "-e", "-c COUNT",
                "-f FORMAT", "%h headers"):
        assert opt in r.stdout.decode(), opt
    r = rill_cli(["help", "consume"])
    assert r.returncode == 0 and b"rill consume" in r.stdout


def test_no_broker_fails(rill_cli):
    port = helpers.closed_port()
    t0 = time.monotonic()
    r = rill_cli(["consume", "-b", "127.0.0.1:%d" % port, "-t", "t", "-e",
                  "-X", "request.timeout.ms=2000"], timeout=30)
    assert r.returncode == 1, err(r)
    assert "no metadata for topic t" in err(r), err(r)
    assert time.monotonic() - t0 < 20


def test_unknown_topic_fails(rill_cli, broker):
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", "no_such_topic", "-e"], timeout=30)
    assert r.returncode == 1, err(r)
    assert "unknown topic" in err(r).lower(), err(r)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def test_format_tokens_match_kcat(rill_cli, broker, topic_name):
    """Every token kcat has prints what kcat prints for the same message (kcat's %s is
    rill's %s and %v; headers with a null value print NULL, as kcat's)."""
    broker.create_topic(topic_name, 2)
    helpers.confluent_produce(broker.bootstrap, topic_name, [
        dict(key=b"k1", value=b"v\x01\xff", partition=0, timestamp=1700000000123,
             headers=[("a", b"1"), ("b", None), ("c", b"")]),
        dict(value=None, key=b"tomb", partition=1, timestamp=1700000000456),
        dict(key=None, value=b"", partition=1, timestamp=1700000000789),
    ])
    fmt = "%t|%p|%o|%T|%k|%K|%s|%S|%h|%%|\\t|\\x41\\n"
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-o", "beginning",
                  "-e", "-f", fmt])
    assert r.returncode == 0, err(r)
    k = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", topic_name, "-o",
                        "beginning", "-e", "-q", "-X", "log_level=3", "-f", fmt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert k.returncode == 0, k.stderr
    assert sorted(r.stdout.split(b"\n")) == sorted(k.stdout.split(b"\n"))
    assert (b"%s|0|0|1700000000123|k1|2|v\x01\xff|3|a=1,b=NULL,c=|%%|\t|A\n"
            % topic_name.encode()) in r.stdout
    # %v is %s; %R is the value length as 4 big-endian bytes (-1 for null).
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-p", "1", "-o",
                  "beginning", "-e", "-f", "%R%v"])
    assert r.returncode == 0, err(r)
    assert r.stdout == b"\xff\xff\xff\xff" + b"\x00\x00\x00\x00"


def test_default_output_is_one_value_per_line(rill_cli, broker, topic_name):
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"first", b"second line", b""], 1)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-o", "beginning", "-e"])
    assert r.returncode == 0, err(r)
    assert r.stdout == b"first\nsecond line\n\n"


def test_exit_at_end_of_every_partition(rill_cli, broker, topic_name):
    """-e waits for every partition, including empty ones."""
    broker.create_topic(topic_name, 4)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(30)], 3)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-o", "beginning", "-e",
                  "-f", "%p %o\\n"])
    assert r.returncode == 0, err(r)
    lines = r.stdout.decode().splitlines()
    assert sorted(lines) == sorted("%d %d" % (p, o) for p in range(3) for o in range(10))


def test_count_and_offsets(rill_cli, broker, topic_name):
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(20)], 1)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-o", "5", "-c", "3"])
    assert r.returncode == 0, err(r)
    assert r.stdout == b"m5\nm6\nm7\n"
    # -c without enough messages keeps waiting: the tail starts at the end.
    p = subprocess.Popen([helpers.rill_cli_path(), "consume", "-b", broker.bootstrap, "-t",
                          topic_name, "-c", "2", "-u"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        assert p.poll() is None
        produce_values(broker.bootstrap, topic_name, [b"new1", b"new2", b"new3"], 1)
        out, e = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, e
    assert out == b"new1\nnew2\n"


# --------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------

def test_group_commit_and_resume(rill_cli, broker, topic_name):
    broker.create_topic(topic_name, 2)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(40)], 2)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "cli-g", "-o",
                  "beginning", "-e", "-f", "%p %o %s\\n"])
    assert r.returncode == 0, err(r)
    assert len(r.stdout.splitlines()) == 40
    assert committed(broker.bootstrap, "cli-g", topic_name, 2) == [20, 20]
    # Nothing new: the next run in the group prints nothing and exits at the end.
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "cli-g", "-e"])
    assert r.returncode == 0, err(r)
    assert r.stdout == b""
    produce_values(broker.bootstrap, topic_name, [b"late%d" % i for i in range(6)], 2)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "cli-g", "-e",
                  "-f", "%p %o %s\\n"])
    assert r.returncode == 0, err(r)
    assert sorted(r.stdout.decode().splitlines()) == sorted(
        "%d %d late%d" % (i % 2, 20 + i // 2, i) for i in range(6))
    assert committed(broker.bootstrap, "cli-g", topic_name, 2) == [23, 23]


def test_group_count_commits_exactly(rill_cli, broker, topic_name):
    """-c N in a group commits N (the next offset to read), though more were prefetched."""
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(500)], 1)
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "cnt", "-o",
                  "beginning", "-c", "123"])
    assert r.returncode == 0, err(r)
    assert r.stdout.decode().splitlines() == ["m%d" % i for i in range(123)]
    assert committed(broker.bootstrap, "cnt", topic_name, 1) == [123]
    r = rill_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "cnt", "-c", "2"])
    assert r.stdout == b"m123\nm124\n"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_closes_cleanly(broker, topic_name, sig):
    """SIGINT/SIGTERM: exit 0, the position committed, the group left (a new member gets
    the partition at once, without waiting for a session timeout)."""
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(10)], 1)
    p = subprocess.Popen([helpers.rill_cli_path(), "consume", "-b", broker.bootstrap, "-t",
                          topic_name, "-g", "sig", "-o", "beginning", "-u",
                          "-X", "session.timeout.ms=30000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = helpers.LineReader(p.stdout)
    try:
        for i in range(10):
            assert out.next_line(30) == "m%d" % i
        p.send_signal(sig)
        assert p.wait(timeout=20) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
    assert committed(broker.bootstrap, "sig", topic_name, 1) == [10]
    produce_values(broker.bootstrap, topic_name, [b"after"], 1)
    t0 = time.monotonic()
    r = helpers.run_cli(["consume", "-b", broker.bootstrap, "-t", topic_name, "-g", "sig",
                         "-c", "1"], timeout=30)
    assert r.returncode == 0 and r.stdout == b"after\n", err(r)
    assert time.monotonic() - t0 < 15  # not held up by a 30 s session of a ghost member


def test_group_on_mock_cluster(rill_cli, mock_cluster, topic_name):
    mc = mock_cluster(1)
    mc.create_topic(topic_name, 2, 1)
    produce_values(mc.bootstrap, topic_name, [b"m%d" % i for i in range(10)], 2)
    r = rill_cli(["consume", "-b", mc.bootstrap, "-t", topic_name, "-g", "mg", "-o", "beginning",
                  "-c", "10", "-X", "session.timeout.ms=6000"])
    assert r.returncode == 0, err(r)
    assert sorted(r.stdout.splitlines()) == sorted(b"m%d" % i for i in range(10))
    assert committed(mc.bootstrap, "mg", topic_name, 2) == [5, 5]


# --------------------------------------------------------------------------
# perf consume
# --------------------------------------------------------------------------

def test_perf_consume_line(rill_cli, broker, topic_name):
    broker.create_topic(topic_name, 3)
    msgs = [dict(value=b"x" * (100 if i % 2 else 300), partition=i % 3) for i in range(3000)]
    helpers.confluent_produce(broker.bootstrap, topic_name, msgs, conf={"linger.ms": 10})
    r = rill_cli(["perf", "consume", "-b", broker.bootstrap, "-t", topic_name, "-n", "3000"])
    assert r.returncode == 0, err(r)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    m = PERF_RE.match(lines[0])
    assert m, lines[0]
    assert int(m.group(1)) == 3000 and int(m.group(2)) == 200  # the average value size
    assert int(m.group(9)) == 3000 and int(m.group(10)) == 0
    assert float(m.group(4)) > 0


def test_perf_consume_short_topic_fails(rill_cli, broker, topic_name):
    """Fewer messages than -n: the line still comes, delivered says how many, exit 1
    (after 10 s without a message)."""
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"m%d" % i for i in range(50)], 1)
    r = rill_cli(["perf", "consume", "-b", broker.bootstrap, "-t", topic_name, "-n", "60"],
                 timeout=40)
    assert r.returncode == 1, err(r)
    m = PERF_RE.match(r.stdout.decode().strip())
    assert m and int(m.group(9)) == 50, r.stdout
    assert "read 50 of 60 messages" in err(r)
