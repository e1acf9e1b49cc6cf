"""test_produce_interop -- librill's producer, through `rill produce` / `rill perf produce` /
`rill topic` and examples/producer, against librdkafka's mock cluster (1 and 3 brokers);
everything read back byte for byte with librdkafka's consumer and with kcat.

Issue 2, "How it is checked": every codec, keys, key -> partition identical to
librdkafka's murmur2_random.  (Null values, binary headers and 1 MiB values need the
C API: test_produce_probe.py.)  The mock cluster has no CreateTopics, so topics are
made through its command channel, and `rill topic` is checked against rill-broker.
"""

import re
import struct

import pytest

import helpers

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PERF_RE = re.compile(r"^(\d+) msgs x (\d+) B in ([\d.]+) s: ([\d.]+) msgs/s ([\d.]+) MB/s "
                     r"cpu=([\d.]+) s \(([\d.]+) ns/msg\) maxrss=(\d+) KiB "
                     r"delivered=(\d+) failed=(\d+)$")


def murmur2(data):
    """The Java client's murmur2 (seed 0x9747b28c), as Utils.murmur2."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = struct.unpack_from("<I", data, i * 4)[0]
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length & ~3
    rem = length & 3
    if rem == 3:
        h ^= data[tail + 2] << 16
    if rem >= 2:
        h ^= data[tail + 1] << 8
    if rem >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key, partitions):
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def test_murmur2_matches_java_vectors():
    # librdkafka's java_murmur2_results (../shared/research/client_anchors.md).
    pre = b"PreAmbleWillBeRemoved,ThePrePartThatIs"
    vectors = [(b"kafka", 0xD067CF64), (b"giberish123456789", 0x8F552B0C), (b"1234", 0x9FC97B14),
               (b"234", 0xE7C009CA), (b"34", 0x873930DA), (b"4", 0x5A4B5CA1),
               (pre, 0x78424F1C), (pre[1:], 0x4A62B377), (pre[2:], 0xE0E4E09E),
               (pre[3:], 0x62B8B43F), (b"", 0x106E08D9)]
    for key, want in vectors:
        assert murmur2(key) == want, key


def make_lines(n):
    """Lines of `rill produce -K '\\t'` input: keyed, unkeyed, empty value, odd bytes."""
    lines = []
    for i in range(n):
        if i % 10 == 3:
            lines.append(b"unkeyed value %d with spaces" % i)          # no delimiter: null key
        elif i % 10 == 7:
            lines.append(b"key-%d\t" % i)                             # empty value
        else:
            lines.append(b"key-%d\tv%d \x00\x01\xfe\xff\r tab\tin value" % (i % 37, i))
    return lines


def split_line(line, delim=b"\t"):
    if delim in line:
        k, v = line.split(delim, 1)
        return k, v
    return None, line


def check_readback(bootstrap, topic, lines, partitions, delim=b"\t"):
    """Both readers return exactly the lines, keyed lines in their murmur2 partition,
    each partition in input order."""
    want = [split_line(l, delim) for l in lines]
    got = helpers.consume_all(bootstrap, topic, len(lines), timeout=40, settle=0.3)
    assert len(got) == len(lines)
    assert sorted((r.key or b"", r.value) for r in got) == \
        sorted((k or b"", v) for k, v in want)
    assert sum(1 for r in got if r.key is None) == sum(1 for k, _ in want if k is None)
    for r in got:
        if r.key is not None:
            assert r.partition == java_partition(r.key, partitions), r
    for p in range(partitions):
        in_part = [(r.key, r.value) for r in got if r.partition == p]
        # Order kept per partition: the partition's records are a subsequence of the input.
        it = iter(want)
        assert all(any(w == rec for w in it) for rec in in_part), "partition %d reordered" % p
    kc = helpers.kcat_consume(bootstrap, topic, len(lines), timeout=40)
    assert [(r.partition, r.offset, r.key, r.value) for r in kc] == \
        [(r.partition, r.offset, r.key, r.value) for r in got]
    return got


@pytest.mark.parametrize("brokers", [1, 3])
@pytest.mark.parametrize("codec", CODECS)
def test_cli_produce_every_codec_read_back(mock_cluster, rill_cli, brokers, codec):
    mc = mock_cluster(brokers)
    topic = "codec_%s_%d" % (codec, brokers)
    mc.create_topic(topic, 4, min(brokers, 3))
    lines = make_lines(300)
    r = rill_cli(["produce", "-t", topic, "-K", "\t", "-b", mc.bootstrap,
                  "-X", "compression.type=" + codec, "-X", "linger.ms=5"],
                 input=b"\n".join(lines) + b"\n", timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    check_readback(mc.bootstrap, topic, lines, 4)


def test_key_partition_mapping_matches_librdkafka(mock_cluster, rill_cli):
    """The same keys land in the same partitions as with librdkafka's murmur2_random."""
    mc = mock_cluster(3)
    for t in ("keys_rill", "keys_rdkafka"):
        mc.create_topic(t, 7, 3)
    keys = [b"k%d" % i for i in range(400)] + [b"", b"\xff\xfe", b"a-little-bit-long-string"]
    keys = [k for k in keys if b"=" not in k]
    lines = [k + b"=" + b"value-of-" + k for k in keys]
    r = rill_cli(["produce", "-t", "keys_rill", "-K", "=", "-b", mc.bootstrap],
                 input=b"\n".join(lines) + b"\n", timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    helpers.confluent_produce(mc.bootstrap, "keys_rdkafka",
                              [dict(key=k, value=b"value-of-" + k) for k in keys],
                              conf={"partitioner": "murmur2_random"})
    rill_map = {r.key: r.partition for r in
                helpers.consume_all(mc.bootstrap, "keys_rill", len(keys), timeout=40)}
    rd_map = {r.key: r.partition for r in
              helpers.consume_all(mc.bootstrap, "keys_rdkafka", len(keys), timeout=40)}
    # An empty key ("" before the delimiter) is a key, not a null key.
    assert rill_map == rd_map
    assert rill_map == {k: java_partition(k, 7) for k in keys}


def test_cli_explicit_partition_and_headers(mock_cluster, rill_cli):
    mc = mock_cluster(3)
    mc.create_topic("hdrs", 3, 3)
    lines = [b"k%d:v%d" % (i, i) for i in range(50)]
    r = rill_cli(["produce", "-t", "hdrs", "-p", "2", "-K", ":", "-H", "trace=abc=def",
                  "-H", "empty=", "-H", "trace=second", "-b", mc.bootstrap],
                 input=b"\n".join(lines) + b"\n", timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = helpers.consume_all(mc.bootstrap, "hdrs", 50, timeout=30, settle=0.3)
    assert {rec.partition for rec in got} == {2}
    assert [rec.value for rec in got] == [b"v%d" % i for i in range(50)]
    for rec in got:
        # Headers in order, duplicates kept, value split at the first '='.
        assert rec.headers == [("trace", b"abc=def"), ("empty", b""), ("trace", b"second")]


def test_cli_produce_no_trailing_newline_and_empty_lines(mock_cluster, rill_cli):
    mc = mock_cluster(1)
    mc.create_topic("nl", 1, 1)
    r = rill_cli(["produce", "-t", "nl", "-b", mc.bootstrap], input=b"a\n\n\nlast", timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = helpers.consume_all(mc.bootstrap, "nl", 4, timeout=20, settle=0.5)
    assert [rec.value for rec in got] == [b"a", b"", b"", b"last"]
    assert all(rec.key is None for rec in got)


@pytest.mark.parametrize("brokers", [1, 3])
def test_perf_produce_line_and_data(mock_cluster, rill_cli, brokers):
    mc = mock_cluster(brokers)
    mc.create_topic("perf", 3, min(brokers, 3))
    r = rill_cli(["perf", "produce", "-t", "perf", "-n", "20000", "-s", "100", "-b", mc.bootstrap,
                  "-X", "acks=1", "-X", "linger.ms=5"], timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    last = r.stdout.decode().strip().splitlines()[-1]
    m = PERF_RE.match(last)
    assert m, "perf line has not the rdperf shape: %r" % last
    n, size, secs, rate = int(m.group(1)), int(m.group(2)), float(m.group(3)), float(m.group(4))
    assert (n, size) == (20000, 100)
    assert (int(m.group(9)), int(m.group(10))) == (20000, 0)
    assert abs(rate - n / secs) / rate < 0.05
    assert int(m.group(8)) > 0
    wm = helpers.watermarks(mc.bootstrap, "perf")
    assert sum(hi - lo for lo, hi in wm.values()) == 20000
    got = helpers.consume_all(mc.bootstrap, "perf", 20000, timeout=60)
    assert all(len(rec.value) == 100 for rec in got)


def test_perf_produce_reports_failures(rill_cli):
    port = helpers.closed_port()
    r = rill_cli(["perf", "produce", "-t", "x", "-n", "100", "-s", "10",
                  "-b", "127.0.0.1:%d" % port, "-X", "delivery.timeout.ms=2000"], timeout=30)
    assert r.returncode == 1
    m = PERF_RE.match(r.stdout.decode().strip().splitlines()[-1])
    assert m and int(m.group(9)) == 0 and int(m.group(10)) == 100


def test_example_producer_against_mock(mock_cluster):
    """examples/producer: create producer, define topic `test`, send `message`, close.
    The mock cluster lacks CreateTopics: the example must go on when the topic exists."""
    exe = helpers.require_binary(helpers.build_path("examples", "producer"), "examples/producer")
    mc = mock_cluster(1)
    mc.create_topic("test", 1, 1)
    r = helpers.run_program([exe, mc.bootstrap], timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    got = helpers.consume_all(mc.bootstrap, "test", 1, timeout=20, settle=0.5)
    assert [(rec.key, rec.value) for rec in got] == [(None, b"message")]


def test_topic_create_without_createtopics_support_fails_cleanly(mock_cluster, rill_cli):
    """librdkafka 2.0.2's mock cluster does not implement CreateTopics: a clear,
    bounded failure (exit 1), not a hang."""
    mc = mock_cluster(1)
    r = rill_cli(["topic", "create", "nope", "-p", "1", "-b", mc.bootstrap,
                  "-X", "request.timeout.ms=5000"], timeout=45)
    assert r.returncode == 1
    assert r.stderr.strip()


@pytest.mark.parametrize("args", [
    ["produce"],                                   # no topic
    ["produce", "-t", "x", "-X", "no.such.key=1"],
    ["produce", "-t", "x", "-X", "acks=maybe"],
    ["produce", "-t", "x", "-X", "compression.type=brotli"],
    ["perf", "produce", "-t", "x", "-n", "-5"],
    ["topic", "create"],
])
def test_cli_bad_usage_exits_2(rill_cli, args):
    r = rill_cli(args, input=b"", timeout=15)
    assert r.returncode == 2, (args, r.stderr)
    assert r.stderr.strip()
    if "-X" in args:
        key = args[args.index("-X") + 1].split("=")[0]
        assert key.encode() in r.stderr
