"""test_cli_usage -- the `rill` tool's contract without a broker.

Exit codes: 0 done, 1 something failed (messages not acknowledged, broker
errors), 2 bad usage or configuration with nothing started.  Usage errors
name what is wrong on stderr and print nothing on stdout.  Where a broker
would be needed, the tests point the tool at a closed 127.0.0.1 port and
check that it fails (exit 1) within its configured timeouts.
"""

import re

import pytest

import helpers

PERF_LINE = re.compile(
    r"^(\d+) msgs x (\d+) B in \d+\.\d{3} s: \d+ msgs/s \d+\.\d MB/s cpu=\d+\.\d{3} s "
    r"\(\d+ ns/msg\) maxrss=\d+ KiB delivered=(\d+) failed=(\d+)$")


def out(r):
    return r.stdout.decode(errors="replace")


def err(r):
    return r.stderr.decode(errors="replace")


def assert_usage_error(r, *needles):
    assert r.returncode == 2, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert out(r) == "", "usage errors print nothing on stdout: %r" % out(r)
    for n in needles:
        assert n in err(r), "%r not in stderr: %s" % (n, err(r))


def test_version(rill_cli):
    for args in (["--version"], ["-V"], ["version"]):
        r = rill_cli(args)
        assert r.returncode == 0
        assert re.match(r"^rill \d+\.\d+\.\d+ \(librill \d+\.\d+\.\d+\)\n$", out(r)), out(r)


def test_help(rill_cli):
    for args in (["help"], ["--help"], ["-h"]):
        r = rill_cli(args)
        assert r.returncode == 0
        for cmd in ("produce", "consume", "topic", "group", "perf"):
            assert cmd in out(r)
    r = rill_cli(["help", "produce"])
    assert r.returncode == 0
    assert "-K DELIM" in out(r) and "-H NAME=VALUE" in out(r)
    for args in (["produce", "-h"], ["topic", "-h"], ["perf", "--help"], ["help", "topic"]):
        r = rill_cli(args)
        assert r.returncode == 0, args
        assert out(r).startswith("usage: rill "), args
    assert_usage_error(rill_cli(["help", "nosuch"]), '"nosuch"')


def test_no_command_and_unknown_command(rill_cli):
    assert_usage_error(rill_cli([]), "usage: rill")
    assert_usage_error(rill_cli(["nosuch"]), 'unknown command "nosuch"')
    assert_usage_error(rill_cli(["--nosuch"]), "--nosuch")
    assert_usage_error(rill_cli(["-b"]), "-b needs a value")


@pytest.mark.parametrize("args", [
    ["-X", "foo.bar=1", "produce", "-t", "t"],
    ["produce", "-t", "t", "-X", "foo.bar=1"],
    ["topic", "create", "t", "-X", "foo.bar=1"],
    ["topic", "delete", "t", "-X", "foo.bar=1"],
    ["perf", "produce", "-t", "t", "-X", "foo.bar=1"],
])
def test_unknown_config_key(rill_cli, args):
    assert_usage_error(rill_cli(args, input=b"x\n"), 'Unknown configuration key "foo.bar"')


def test_bad_config_values(rill_cli):
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "acks=7"]),
                       'Invalid value "7" for "acks": expected one of all, -1, 0, 1')
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "linger.ms=soon"]), '"linger.ms"')
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "compression.codec=brotli"]),
                       '"compression.type"', "gzip, snappy, lz4, zstd")
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "security.protocol=ssl"]),
                       "not supported yet")
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "acks"]), "KEY=VALUE")
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "=1"]), "KEY=VALUE")
    assert_usage_error(rill_cli(["produce", "-t", "t", "-b", "host:99999"]),
                       '"bootstrap.servers"')
    assert_usage_error(rill_cli(["-b", "", "produce", "-t", "t"]), '"bootstrap.servers"')
    # A near miss gets a suggestion.
    assert_usage_error(rill_cli(["produce", "-t", "t", "-X", "ack=1"]), 'did you mean "acks"')


def test_conflicting_config_is_rejected_before_starting(rill_cli):
    r = rill_cli(["produce", "-b", "127.0.0.1:%d" % helpers.closed_port(), "-t", "t",
                  "-X", "enable.idempotence=true", "-X", "acks=1"], input=b"x\n", timeout=20)
    assert_usage_error(r, '"enable.idempotence"', '"acks"')


def test_config_list(rill_cli):
    r = rill_cli(["-X", "list"])
    assert r.returncode == 0
    for key in ("bootstrap.servers", "acks", "linger.ms", "compression.type", "group.id"):
        assert re.search(r"^%s\s" % re.escape(key), out(r), re.M), key
    assert rill_cli(["produce", "-X", "list"]).returncode == 0


@pytest.mark.parametrize("args,needle", [
    (["produce"], "-t TOPIC is required"),
    (["produce", "-t"], "-t needs a value"),
    (["produce", "-t", ""], "-t needs a topic name"),
    (["produce", "-t", "t", "-p", "x"], '-p expects a partition number >= 0, got "x"'),
    (["produce", "-t", "t", "-p", "-1"], "-p expects a partition number"),
    (["produce", "-t", "t", "-p", "2147483648"], "-p expects a partition number"),
    (["produce", "-t", "t", "-K", ""], "-K needs a delimiter"),
    (["produce", "-t", "t", "-H", "novalue"], '-H expects NAME=VALUE, got "novalue"'),
    (["produce", "-t", "t", "-H", "=v"], "-H expects NAME=VALUE"),
    (["produce", "-t", "t", "-z"], "unknown option -z"),
    (["produce", "-t", "t", "--nosuch"], "unknown option --nosuch"),
    (["produce", "-t", "t", "extra"], 'unexpected argument "extra"'),
    (["topic"], "topic needs an action"),
    (["topic", "rename", "t"], 'unknown action "rename"'),
    (["topic", "create"], "topic create needs a topic name"),
    (["topic", "delete"], "topic delete needs a topic name"),
    (["topic", "create", "t", "-p", "0"], "-p expects a partition count >= 1"),
    (["topic", "create", "t", "-r", "40000"], "-r expects a replication factor"),
    (["topic", "create", "t", "-c", "retention.ms"], '-c expects KEY=VALUE'),
    (["topic", "create", "t", "--if-exists"], "--if-exists is for topic delete"),
    (["topic", "delete", "t", "-p", "3"], "unknown option -p"),
    (["topic", "create", "x" * 250], "not a valid topic name"),
    (["perf"], "perf needs produce or consume"),
    (["perf", "fly"], 'unknown action "fly"'),
    (["perf", "produce", "-n", "10"], "-t TOPIC is required"),
    (["perf", "produce", "-t", "t", "-n", "0"], "-n expects a message count >= 1"),
    (["perf", "produce", "-t", "t", "-s", "-1"], "-s expects a size in bytes"),
    (["perf", "produce", "-t", "t", "-s", "big"], "-s expects a size in bytes"),
])
def test_bad_usage(rill_cli, args, needle):
    assert_usage_error(rill_cli(args, input=b""), needle)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("args", [
    ["consume", "-t", "t"],
    ["group", "list"],
    ["topic", "list"],
])
def test_admin_and_consume_without_broker_fail(rill_cli, args):
    """Subcommands that need a cluster fail with exit 1 and a message when none answers."""
    port = helpers.closed_port()
    r = rill_cli(args + ["-b", "127.0.0.1:%d" % port, "-X", "request.timeout.ms=3000"], timeout=80)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert err(r).strip(), "no error message"


@pytest.mark.timeout(60)
def test_produce_without_broker_fails(rill_cli):
    port = helpers.closed_port()
    r = rill_cli(["produce", "-b", "127.0.0.1:%d" % port, "-t", "t", "-K", ":",
                  "-H", "h=v", "-X", "delivery.timeout.ms=1500"],
                 input=b"k:first\nsecond\n", timeout=40)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert "2 of 2 messages not acknowledged" in err(r), err(r)
    assert out(r) == ""


@pytest.mark.timeout(60)
def test_perf_without_broker_fails_with_one_line(rill_cli):
    port = helpers.closed_port()
    r = rill_cli(["perf", "produce", "-b", "127.0.0.1:%d" % port, "-t", "t", "-n", "10",
                  "-s", "16", "-X", "delivery.timeout.ms=1500"], timeout=40)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, err(r))
    lines = out(r).splitlines()
    assert len(lines) == 1, out(r)
    m = PERF_LINE.match(lines[0])
    assert m, lines[0]
    assert m.groups() == ("10", "16", "0", "10")


@pytest.mark.timeout(60)
def test_topic_create_without_broker_fails(rill_cli):
    port = helpers.closed_port()
    r = rill_cli(["topic", "create", "t", "-p", "2", "-b", "127.0.0.1:%d" % port,
                  "-X", "request.timeout.ms=1500"], timeout=40)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, err(r))
    assert '"t"' in err(r), err(r)
