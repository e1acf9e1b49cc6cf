"""test_broker_daemon -- build/rill-broker as a program: arguments, configuration,
the data-directory lock, signals, log lines and the Prometheus endpoint."""

import os
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

import helpers
from test_broker_wire import Conn, fetch_v4_body, ensure_topic, parse_fetch_v4, Reader, produce
from test_broker_wire import rill_broker  # noqa: F401 (checks every broker stops cleanly)

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, ConfigResource


def run_broker(args, timeout=20):
    exe = helpers.require_binary(helpers.rill_broker_path(), "rill-broker")
    return subprocess.run([exe] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


# --------------------------------------------------------------------------
# Arguments and configuration
# --------------------------------------------------------------------------


def test_help_and_version():
    r = run_broker(["--help"])
    assert r.returncode == 0 and b"--listen HOST:PORT" in r.stdout
    r = run_broker(["--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"rill-broker ")


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], b"unknown option '--bogus'"),
    (["--listen"], b"--listen needs a value"),
    (["--listen", "nohostport:x"], b"--listen: 'nohostport:x' is not HOST:PORT"),
    (["--log-level", "loud"], b"--log-level: 'loud'"),
    (["-X", "no.such.key=1"], b"no.such.key: unknown configuration key"),
    (["-X", "num.partitions=0"], b"num.partitions: '0' is not an integer"),
    (["-X", "log.segment.bytes=lots"], b"log.segment.bytes"),
    (["-X", "default.replication.factor=3"], b"rill-broker is one node"),
    (["-X", "log.flush.policy=maybe"], b"not acks-all, sync or os"),
    (["-X", "novalue"], b"'novalue' is not key=value"),
])
def test_bad_arguments_exit_2_naming_the_culprit(tmp_path, args, needle):
    r = run_broker(["--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0"] + args)
    assert r.returncode == 2, r.stdout
    assert needle in r.stdout, r.stdout
    assert not (tmp_path / "d").exists()  # nothing started


def test_config_file_unknown_key_names_file_line_and_key(tmp_path):
    cfg = tmp_path / "server.properties"
    cfg.write_text("# comment\n! also a comment\n\nnum.partitions = 3\nlog.retentoin.ms=5\n")
    r = run_broker(["--config", str(cfg), "--data-dir", str(tmp_path / "d"),
                    "--listen", "127.0.0.1:0"])
    assert r.returncode == 2
    assert ("%s:5: log.retentoin.ms" % cfg).encode() in r.stdout, r.stdout


def test_config_file_missing(tmp_path):
    r = run_broker(["--config", str(tmp_path / "nope.properties")])
    assert r.returncode == 2 and b"cannot read config file" in r.stdout


def test_config_file_applies_and_options_override(rill_broker, tmp_path, topic_name):
    cfg = tmp_path / "server.properties"
    cfg.write_text("num.partitions=5\nlog.segment.bytes=1048576\nlog.retention.hours=48\n"
                   "auto.create.topics.enable=true\ndefault.replication.factor=1\n"
                   "message.max.bytes=2000000\n")
    b = rill_broker("--config", str(cfg), "-X", "num.partitions=2")
    helpers.confluent_produce(b.bootstrap, topic_name, [dict(value=b"v")])
    assert helpers.partitions_of(b.bootstrap, topic_name) == [0, 1]
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name)
    cfgs = a.describe_configs([res])[res].result(15)
    assert cfgs["segment.bytes"].value == "1048576"
    assert cfgs["retention.ms"].value == str(48 * 3600 * 1000)
    assert cfgs["max.message.bytes"].value == "2000000"
    assert cfgs["segment.bytes"].source == ck.admin.ConfigSource.STATIC_BROKER_CONFIG.value
    assert cfgs["cleanup.policy"].source == ck.admin.ConfigSource.DEFAULT_CONFIG.value


def test_listen_twice_and_advertise(rill_broker, topic_name):
    b = rill_broker("--listen", "127.0.0.1:0", "--advertise", "localhost:%d" % 0)
    helpers.wait_for(lambda: len(re.findall(r"listening on", b.output())) == 2, 5,
                     what="two listening lines")
    ports = [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+)", b.output())]
    assert len(ports) == 2 and all(p > 0 for p in ports) and ports[0] != ports[1]
    for p in ports:  # both serve
        c = Conn("127.0.0.1:%d" % p)
        assert c.call(18, 0, b"").take(">h") == 0
        c.close()
    md = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % ports[1]}).list_topics(timeout=10)
    brokers = list(md.brokers.values())
    assert len(brokers) == 1 and brokers[0].id == 0
    # --advertise with port 0 keeps the first listener's port, and the given host.
    assert (brokers[0].host, brokers[0].port) == ("localhost", ports[0])


def test_node_id_and_cluster_id_persist(rill_broker, tmp_path):
    d = str(tmp_path / "data")
    b = rill_broker("-X", "node.id=7", data_dir=d)
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
    assert list(md.brokers) == [7] and md.controller_id == 7
    cluster = md.cluster_id
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster)
    b.restart()
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
    assert md.cluster_id == cluster
    b.stop()
    r = run_broker(["--data-dir", d, "--listen", "127.0.0.1:0", "-X", "node.id=3"])
    assert r.returncode == 1 and b"node.id 7" in r.stdout, r.stdout


# --------------------------------------------------------------------------
# Lock, signals
# --------------------------------------------------------------------------


def test_second_broker_on_same_data_dir_refuses(rill_broker, tmp_path):
    d = str(tmp_path / "shared")
    b = rill_broker(data_dir=d)
    r = run_broker(["--data-dir", d, "--listen", "127.0.0.1:0"])
    assert r.returncode == 1
    msg = r.stdout.decode()
    assert "in use by another rill-broker (pid %d)" % b.proc.pid in msg, msg
    assert b.running


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_answers_in_flight_then_exits_0(rill_broker, topic_name, sig):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    corr = c.send(1, 4, fetch_v4_body(topic_name, 0, 0, max_wait=20000, min_bytes=1))
    time.sleep(0.3)  # parked now
    t = time.monotonic()
    b.proc.send_signal(sig)
    resp = c.recv()  # the long poll is answered (empty) instead of being cut off
    assert struct.unpack_from(">i", resp)[0] == corr
    assert parse_fetch_v4(Reader(resp[4:]))[(topic_name, 0)]["records"] == b""
    assert b.proc.wait(10) == 0
    assert time.monotonic() - t < 5
    helpers.wait_for(lambda: "stopped" in b.output(), 5, what="the 'stopped' line")
    # The clean shutdown marker lets the next start skip recovery.
    b.restart()
    assert "previous shutdown clean" in b.output()


def test_log_lines_have_time_level_component(rill_broker):
    b = rill_broker("--log-level", "debug")
    c = Conn(b.bootstrap)
    c.call(18, 0, b"")
    c.close()
    helpers.wait_for(lambda: "ApiVersions v0" in b.output(), 5, what="a debug request line")
    line = [l for l in b.output().splitlines() if "ApiVersions v0" in l][0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z debug +request: ", line), line
    quiet = rill_broker("--log-level", "warn")
    assert "listening on" in quiet.output()  # always printed: scripts wait for it
    assert " info " not in quiet.output()


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def metric(text, name, labels=""):
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def test_prometheus_metrics(rill_broker, topic_name):
    b = rill_broker("--metrics", "127.0.0.1:0")
    mport = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", b.output()).group(1))
    msgs = [dict(value=b"x" * 100) for _ in range(500)]
    # Batches of 10 records, so that a small fetch size below ends between batches.
    helpers.confluent_produce(b.bootstrap, topic_name, msgs,
                              conf={"acks": "all", "batch.num.messages": 10})
    helpers.consume_all(b.bootstrap, topic_name, 500)
    status, ctype, text = scrape(mport)
    assert metric(text, "rill_topic_messages_out_total", '{topic="%s"}' % topic_name) == 500
    # Again with fetches of a few batches each: every record is counted once more.
    helpers.consume_all(b.bootstrap, topic_name, 500, conf={"fetch.message.max.bytes": 3000})
    _, _, text2 = scrape(mport)
    assert metric(text2, "rill_topic_messages_out_total", '{topic="%s"}' % topic_name) == 1000
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    assert metric(text, "rill_requests_total", '{api="Produce"}') >= 1
    assert metric(text, "rill_requests_total", '{api="Fetch"}') >= 1
    assert metric(text, "rill_request_errors_total", '{api="Produce"}') == 0
    count = metric(text, "rill_request_duration_seconds_count", '{api="Produce"}')
    inf = metric(text, "rill_request_duration_seconds_bucket", '{api="Produce",le="+Inf"}')
    assert count == inf >= 1
    assert metric(text, "rill_topic_messages_in_total", '{topic="%s"}' % topic_name) == 500
    bytes_in = metric(text, "rill_topic_bytes_in_total", '{topic="%s"}' % topic_name)
    assert bytes_in > 500 * 100
    assert metric(text, "rill_topic_bytes_out_total", '{topic="%s"}' % topic_name) >= bytes_in
    assert metric(text, "rill_log_size_bytes", '{topic="%s",partition="0"}' % topic_name) == \
        bytes_in
    assert metric(text, "rill_log_end_offset", '{topic="%s",partition="0"}' % topic_name) == 500
    assert metric(text, "rill_fsync_total") >= 1  # acks=all went through group commit
    assert metric(text, "rill_fsync_duration_seconds_count") == metric(text, "rill_fsync_total")
    assert metric(text, "rill_connections") >= 0
    assert metric(text, "rill_connections_accepted_total") >= 2
    for line in text.splitlines():  # every sample line is "name{labels} number"
        if line and not line.startswith("#"):
            assert re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+'
                                r'|[a-z_]+\{[^}]*\} [0-9.e+-]+', line), line
    try:
        scrape(mport, "/other")
        assert False, "expected 404"
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_bad_frames_counted(rill_broker):
    b = rill_broker("--metrics", "127.0.0.1:0")
    mport = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", b.output()).group(1))
    c = Conn(b.bootstrap)
    c.send_raw(struct.pack(">i", -1))
    assert c.closed_by_peer()
    helpers.wait_for(lambda: metric(scrape(mport)[2], "rill_bad_frames_total") == 1, 5,
                     what="the bad frame to be counted")


def test_flush_policies(rill_broker, topic_name):
    """log.flush.policy=os: acks=all answered without an fsync; none happens at all unless
    log.flush.interval.messages asks for one (then the flusher thread does it)."""
    lazy = rill_broker("--metrics", "127.0.0.1:0", "-X", "log.flush.policy=os")
    lport = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)", lazy.output()).group(1))
    helpers.confluent_produce(lazy.bootstrap, topic_name, [dict(value=b"v")] * 20,
                              conf={"acks": "all"})
    time.sleep(0.6)  # two maintenance ticks
    assert metric(scrape(lport)[2], "rill_fsync_total") == 0

    eager = rill_broker("--metrics", "127.0.0.1:0", "-X", "log.flush.policy=os",
                        "-X", "log.flush.interval.messages=1")
    eport = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)", eager.output()).group(1))
    helpers.confluent_produce(eager.bootstrap, topic_name, [dict(value=b"v")] * 20,
                              conf={"acks": "1"})
    helpers.wait_for(lambda: metric(scrape(eport)[2], "rill_fsync_total") >= 1, 5,
                     what="a flush by log.flush.interval.messages")


def test_rolled_segments_are_synced(rill_broker, topic_name):
    """Kafka flushes a segment when it rolls; so does rill-broker, on its flusher thread."""
    b = rill_broker("--metrics", "127.0.0.1:0", "-X", "log.flush.policy=os",
                    "-X", "log.segment.bytes=4096")
    port = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)", b.output()).group(1))
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    for i in range(20):  # one batch each: 1000 bytes, four to a segment
        assert produce(c, topic_name, [b"x" * 1000])[0] == 0
    c.close()
    helpers.wait_for(lambda: metric(scrape(port)[2], "rill_fsync_total") >= 1, 5,
                     what="the rolled segments to be synced")
    segs = [f for f in os.listdir(os.path.join(b.data_dir, topic_name + "-0"))
            if f.endswith(".log")]
    assert len(segs) > 5
