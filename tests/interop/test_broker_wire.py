"""test_broker_wire -- rill-broker driven over raw sockets, byte by byte.

What no well-behaved client sends: malformed, truncated and oversized frames,
unknown API keys and versions, record batches with a bad CRC or two batches
per partition, a client that sends one byte at a time, thousands of idle
connections.  Each must cost only the connection that sent it, and nothing
bad may be appended.  Also the protocol details clients rely on, checked on
the exact bytes: KIP-511 ApiVersions fallback, pipelined requests answered in
order, a fetch inside a batch returning the whole batch, long-poll timing.
"""

import os
import re
import resource
import signal
import socket
import struct
import time

import pytest

import helpers

# --------------------------------------------------------------------------
# Every broker a test_broker_* test starts must stop cleanly
# --------------------------------------------------------------------------


@pytest.fixture
def rill_broker(rill_broker):
    """conftest's rill_broker, plus a check at teardown: SIGTERM stops the broker with
    status 0 (graceful shutdown works after whatever the test did) and no sanitizer
    report (the ASan build's leak check).  Other test_broker_* files import it."""
    started = []

    def start(*args, **kw):
        b = rill_broker(*args, **kw)
        started.append(b)
        return b

    yield start
    problems = []
    for b in started:
        rc = b.stop() if b.running else b.proc.returncode
        if b.proc.returncode not in (0, -signal.SIGKILL) or "Sanitizer" in b.output():
            problems.append("rill-broker exited %s; output:\n%s" % (rc, b.output()[-4000:]))
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# A minimal wire codec (only what these tests send and read)
# --------------------------------------------------------------------------


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283


def varint(n):
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def record_batch(values, base_ts=None, producer_id=-1, base_seq=-1, corrupt_crc=False):
    """A magic-2 batch of uncompressed records with null keys."""
    base_ts = int(time.time() * 1000) if base_ts is None else base_ts
    recs = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    n = len(values)
    after_crc = struct.pack(">hiqqqhii", 0, n - 1, base_ts, base_ts, producer_id, 0, base_seq,
                            n) + recs
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 1
    batch_len = 4 + 1 + 4 + len(after_crc)  # leader epoch, magic, crc, rest
    return struct.pack(">qiibI", 0, batch_len, -1, 2, crc) + after_crc


def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(api_key, version, corr, body, client_id="wire-test"):
    hdr = struct.pack(">hhi", api_key, version, corr) + kstr(client_id)
    msg = hdr + body
    return struct.pack(">i", len(msg)) + msg


def produce_body(topic, partition, records, acks=1, timeout_ms=5000):
    return (kstr(None) + struct.pack(">hi", acks, timeout_ms) + struct.pack(">i", 1) + kstr(topic)
            + struct.pack(">i", 1) + struct.pack(">ii", partition, len(records)) + records)


def metadata_v1_body(topics):
    return struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics)


def fetch_v4_body(topic, partition, offset, max_wait=0, min_bytes=0, max_bytes=1 << 20):
    return (struct.pack(">iiiib", -1, max_wait, min_bytes, max_bytes, 0) + struct.pack(">i", 1)
            + kstr(topic) + struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes))


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.d[self.p:self.p + n].decode()
        self.p += n
        return s

    def bytes_(self):
        n = self.take(">i")
        if n < 0:
            return None
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def done(self):
        return self.p == len(self.d)


class Conn:
    def __init__(self, bootstrap, timeout=10.0):
        host, port = bootstrap.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.corr = 0

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, api_key, version, body):
        self.corr += 1
        self.send_raw(request(api_key, version, self.corr, body))
        return self.corr

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed by the broker after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return buf

    def recv(self):
        (size,) = struct.unpack(">i", self.recv_exact(4))
        return self.recv_exact(size)

    def call(self, api_key, version, body):
        corr = self.send(api_key, version, body)
        resp = self.recv()
        got = struct.unpack_from(">i", resp)[0]
        assert got == corr, (got, corr)
        return Reader(resp[4:])

    def closed_by_peer(self, timeout=5.0):
        """True when the broker closes the connection within timeout (no bytes first)."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def parse_api_versions_v0(r):
    err = r.take(">h")
    keys = {}
    for _ in range(r.take(">i")):
        k, lo, hi = r.take(">hhh")
        keys[k] = (lo, hi)
    return err, keys


def parse_produce_v3(r):
    out = {}
    for _ in range(r.take(">i")):
        topic = r.string()
        for _ in range(r.take(">i")):
            part, err, base, ts = r.take(">ihqq")
            out[(topic, part)] = (err, base)
    r.take(">i")  # throttle
    assert r.done()
    return out


def parse_fetch_v4(r):
    r.take(">i")  # throttle
    out = {}
    for _ in range(r.take(">i")):
        topic = r.string()
        for _ in range(r.take(">i")):
            part, err, hw, lso = r.take(">ihqq")
            n = r.take(">i")
            aborted = None if n < 0 else [r.take(">qq") for _ in range(n)]
            records = r.bytes_()
            out[(topic, part)] = dict(error=err, hw=hw, lso=lso, aborted=aborted, records=records)
    assert r.done()
    return out


def produce(conn, topic, values, partition=0, acks=1, **kw):
    r = conn.call(0, 3, produce_body(topic, partition, record_batch(values, **kw), acks=acks))
    return parse_produce_v3(r)[(topic, partition)]


def ensure_topic(conn, topic):
    conn.call(3, 1, metadata_v1_body([topic]))


def end_offset(bootstrap, topic):
    return helpers.watermarks(bootstrap, topic)[0][1]


def still_serves(bootstrap):
    """A fresh connection gets a well-formed ApiVersions answer."""
    c = Conn(bootstrap)
    try:
        err, keys = parse_api_versions_v0(c.call(18, 0, b""))
        return err == 0 and 0 in keys
    finally:
        c.close()


# --------------------------------------------------------------------------
# ApiVersions and unknown requests
# --------------------------------------------------------------------------


def test_api_versions_advertises_the_union_of_client_needs(rill_broker):
    b = rill_broker()
    c = Conn(b.bootstrap)
    err, keys = parse_api_versions_v0(c.call(18, 0, b""))
    assert err == 0
    # broker_anchors.md §3.5: what kafka-python 2.0.2, librdkafka 2.0.2, kafkajs, Sarama send.
    need = {0: (3, 7), 1: (4, 11), 2: (0, 3), 3: (0, 8), 10: (0, 2), 18: (0, 3), 19: (0, 4),
            20: (0, 1), 22: (0, 4), 32: (0, 2)}
    for k, (lo, hi) in need.items():
        assert k in keys, k
        assert keys[k][0] <= lo and keys[k][1] >= hi, (k, keys[k])
    c.close()


def test_api_versions_unsupported_version_kip511(rill_broker):
    """An ApiVersions version the broker does not know: v0 body, error 35, our ranges,
    response header v0 -- and the connection stays usable."""
    b = rill_broker()
    c = Conn(b.bootstrap)
    # A v9 request with a body nobody can parse: the broker must not try.
    c.send_raw(request(18, 9, 77, b"\x01\x02\x03garbage"))
    resp = c.recv()
    r = Reader(resp)
    assert r.take(">i") == 77
    err, keys = parse_api_versions_v0(r)
    assert err == 35
    assert keys[18] == (0, 4)
    assert r.done()
    err, keys = parse_api_versions_v0(c.call(18, 0, b""))
    assert err == 0
    c.close()


def test_api_versions_v3_flexible(rill_broker):
    b = rill_broker()
    c = Conn(b.bootstrap)
    body = b"\x06probe\x041.0\x00"  # compact strings + empty tags
    corr = c.send(18, 3, b"\x00" + body)  # header v2: client id then tags (0)
    resp = c.recv()
    r = Reader(resp)
    assert r.take(">i") == corr  # response header v0: no tags, even for v3
    assert r.take(">h") == 0
    c.close()


@pytest.mark.parametrize("key,version", [(1000, 0), (50, 0), (4, 0), (0, 2), (1, 3), (0, 99)])
def test_unknown_api_or_version_closes_only_that_connection(rill_broker, key, version):
    b = rill_broker()
    other = Conn(b.bootstrap)
    bad = Conn(b.bootstrap)
    bad.send_raw(request(key, version, 1, b"\x00" * 16))
    assert bad.closed_by_peer()
    err, _ = parse_api_versions_v0(other.call(18, 0, b""))
    assert err == 0
    assert still_serves(b.bootstrap)


# --------------------------------------------------------------------------
# Bad frames
# --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [200 * 1024 * 1024, -5, 0, 3, 7])
def test_bad_frame_size_closes_only_that_connection(rill_broker, topic_name, size):
    b = rill_broker()
    good = Conn(b.bootstrap)
    ensure_topic(good, topic_name)
    assert produce(good, topic_name, [b"before"]) == (0, 0)
    bad = Conn(b.bootstrap)
    bad.send_raw(struct.pack(">i", size) + b"\x00" * 64)
    assert bad.closed_by_peer()
    assert produce(good, topic_name, [b"after"]) == (0, 1)
    assert end_offset(b.bootstrap, topic_name) == 2
    helpers.wait_for(lambda: re.search(r"closed: invalid request size", b.output()), 5,
                     what="the broker to log the bad frame")


def test_oversized_frame_against_configured_limit(rill_broker):
    b = rill_broker("-X", "socket.request.max.bytes=4096")
    c = Conn(b.bootstrap)
    c.send_raw(struct.pack(">i", 5000))
    assert c.closed_by_peer()
    ok = Conn(b.bootstrap)
    assert parse_api_versions_v0(ok.call(18, 0, b"" + b""))[0] == 0


def test_truncated_and_garbage_bodies_close_the_connection(rill_broker, topic_name):
    b = rill_broker()
    cases = [
        request(3, 1, 1, struct.pack(">i", 5) + kstr("a")),  # 5 topics promised, 1 sent
        request(0, 3, 1, produce_body(topic_name, 0, b"")[:-3]),  # cut inside the body
        request(3, 1, 1, metadata_v1_body([topic_name]) + b"trailing"),  # bytes left over
        struct.pack(">i", 10) + struct.pack(">hhi", 3, 1, 1) + b"\x00\x30",  # client id overrun
    ]
    for frame in cases:
        c = Conn(b.bootstrap)
        c.send_raw(frame)
        assert c.closed_by_peer(), frame
    assert still_serves(b.bootstrap)
    a = Conn(b.bootstrap)
    md = a.call(3, 1, metadata_v1_body([]))
    assert md is not None
    # Nothing of it created the topic or appended.
    from confluent_kafka.admin import AdminClient
    assert topic_name not in AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(
        timeout=10).topics


# --------------------------------------------------------------------------
# Produce validation
# --------------------------------------------------------------------------


def test_bad_crc_gets_corrupt_message_and_is_not_stored(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    assert produce(c, topic_name, [b"one", b"two"]) == (0, 0)
    err, _ = produce(c, topic_name, [b"evil"], corrupt_crc=True)
    assert err == 2  # CORRUPT_MESSAGE
    # A flipped bit inside a record, with the header CRC left as computed before.
    batch = bytearray(record_batch([b"payload"]))
    batch[-3] ^= 0x40
    r = c.call(0, 3, produce_body(topic_name, 0, bytes(batch)))
    assert parse_produce_v3(r)[(topic_name, 0)][0] == 2
    assert produce(c, topic_name, [b"three"]) == (0, 2)
    got = helpers.consume_all(b.bootstrap, topic_name, 3, settle=0.3)
    assert [x.value for x in got] == [b"one", b"two", b"three"]


def test_batch_framing_errors(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    one = record_batch([b"a"])
    cases = {
        "two batches": (one + one, 87),  # INVALID_RECORD: one batch per partition
        "truncated": (one[:-5], 2),  # CORRUPT_MESSAGE
        "trailing bytes": (one + b"\x00" * 3, 87),
        "empty": (b"", 87),
        "magic 1": (one[:16] + b"\x01" + one[17:], 87),
        "header only": (one[:40], 2),
    }
    for what, (records, want) in cases.items():
        r = c.call(0, 3, produce_body(topic_name, 0, records))
        assert parse_produce_v3(r)[(topic_name, 0)][0] == want, what
    assert end_offset(b.bootstrap, topic_name) == 0


def test_invalid_acks_and_unknown_partition(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    r = c.call(0, 3, produce_body(topic_name, 0, record_batch([b"x"]), acks=2))
    assert parse_produce_v3(r)[(topic_name, 0)] == (21, -1)
    r = c.call(0, 3, produce_body(topic_name, 7, record_batch([b"x"])))
    assert parse_produce_v3(r)[(topic_name, 7)] == (3, -1)
    r = c.call(0, 3, produce_body(topic_name + "_nope", 0, record_batch([b"x"])))
    assert parse_produce_v3(r)[(topic_name + "_nope", 0)] == (3, -1)
    assert end_offset(b.bootstrap, topic_name) == 0


def test_message_too_large(rill_broker, topic_name):
    b = rill_broker("-X", "message.max.bytes=1000")
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    assert produce(c, topic_name, [b"x" * 2000])[0] == 10
    assert produce(c, topic_name, [b"x" * 100]) == (0, 0)


def test_acks0_no_response_and_error_closes(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    c.send(0, 3, produce_body(topic_name, 0, record_batch([b"quiet"]), acks=0))
    # No response to the produce: the next answer is the ApiVersions one.
    err, _ = parse_api_versions_v0(c.call(18, 0, b""))
    assert err == 0
    c.send(0, 3, produce_body(topic_name, 0, record_batch([b"bad"], corrupt_crc=True), acks=0))
    assert c.closed_by_peer()
    got = helpers.consume_all(b.bootstrap, topic_name, 1, settle=0.3)
    assert [x.value for x in got] == [b"quiet"]


def test_idempotent_duplicate_acknowledged_once_stored(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    r = c.call(22, 0, kstr(None) + struct.pack(">i", 60000))
    assert r.take(">i") == 0 and r.take(">h") == 0
    pid, epoch = r.take(">qh")
    assert pid >= 0 and epoch == 0
    assert produce(c, topic_name, [b"a", b"b"], producer_id=pid, base_seq=0) == (0, 0)
    assert produce(c, topic_name, [b"a", b"b"], producer_id=pid, base_seq=0) == (0, 0)  # retry
    assert produce(c, topic_name, [b"c"], producer_id=pid, base_seq=5)[0] == 45  # gap
    assert produce(c, topic_name, [b"c"], producer_id=pid, base_seq=2) == (0, 2)
    assert end_offset(b.bootstrap, topic_name) == 3
    # Producer ids are not reused after a restart.
    b.restart()
    c2 = Conn(b.bootstrap)
    r = c2.call(22, 0, kstr(None) + struct.pack(">i", 60000))
    r.take(">ih")
    assert r.take(">q") > pid


# --------------------------------------------------------------------------
# Ordering, fetch
# --------------------------------------------------------------------------


def test_pipelined_requests_answered_in_order(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    frames, expect = b"", []
    for i in range(60):
        kind = i % 3
        if kind == 0:
            frames += request(18, 0, 1000 + i, b"")
        elif kind == 1:
            frames += request(0, 3, 1000 + i, produce_body(topic_name, 0, record_batch([b"%d" % i]),
                                                           acks=-1))
        else:
            frames += request(1, 4, 1000 + i, fetch_v4_body(topic_name, 0, 0, max_wait=200,
                                                            min_bytes=10 ** 6))
        expect.append(1000 + i)
    c.send_raw(frames)  # all at once: kafka-python's probe does the same with two
    got = [struct.unpack_from(">i", c.recv())[0] for _ in expect]
    assert got == expect


def test_fetch_inside_a_batch_returns_the_whole_batch(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    assert produce(c, topic_name, [b"r%d" % i for i in range(5)]) == (0, 0)
    assert produce(c, topic_name, [b"s%d" % i for i in range(5)]) == (0, 5)
    res = parse_fetch_v4(c.call(1, 4, fetch_v4_body(topic_name, 0, 7)))[(topic_name, 0)]
    assert res["error"] == 0 and res["hw"] == 10 and res["lso"] == 10
    rec = res["records"]
    base, length = struct.unpack_from(">qi", rec)
    assert base == 5 and len(rec) == 12 + length  # exactly the second batch, whole
    assert crc32c(rec[21:]) == struct.unpack_from(">I", rec, 17)[0]
    res = parse_fetch_v4(c.call(1, 4, fetch_v4_body(topic_name, 0, 3, max_bytes=1)))
    rec = res[(topic_name, 0)]["records"]
    assert struct.unpack_from(">q", rec)[0] == 0  # over max_bytes: still one whole batch
    assert len(rec) == 12 + struct.unpack_from(">i", rec, 8)[0]


def test_fetch_out_of_range_and_unknown(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    produce(c, topic_name, [b"x"])
    res = parse_fetch_v4(c.call(1, 4, fetch_v4_body(topic_name, 0, 50)))[(topic_name, 0)]
    assert res["error"] == 1 and res["hw"] == 1
    res = parse_fetch_v4(c.call(1, 4, fetch_v4_body(topic_name + "x", 0, 0)))
    assert res[(topic_name + "x", 0)]["error"] == 3


def test_long_poll_waits_max_wait_then_answers_empty(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    t = time.monotonic()
    res = parse_fetch_v4(c.call(1, 4, fetch_v4_body(topic_name, 0, 0, max_wait=800,
                                                    min_bytes=1)))
    took = time.monotonic() - t
    assert res[(topic_name, 0)]["records"] == b""
    assert 0.7 <= took < 3.0, took
    # min_bytes larger than what arrives: still answered at max_wait, with the data.
    other = Conn(b.bootstrap)
    corr = c.send(1, 4, fetch_v4_body(topic_name, 0, 0, max_wait=1000, min_bytes=10 ** 6))
    time.sleep(0.2)
    assert produce(other, topic_name, [b"small"]) == (0, 0)
    resp = c.recv()
    assert struct.unpack_from(">i", resp)[0] == corr
    res = parse_fetch_v4(Reader(resp[4:]))
    assert len(res[(topic_name, 0)]["records"]) > 0


# --------------------------------------------------------------------------
# Slow and idle clients
# --------------------------------------------------------------------------


def test_slow_client_does_not_stall_others(rill_broker, topic_name):
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    slow = Conn(b.bootstrap)
    frame = request(0, 3, 5, produce_body(topic_name, 0, record_batch([b"slowly"])))
    slow.send_raw(frame[:1])
    t = time.monotonic()
    sent = 1
    for i in range(200):
        assert produce(c, topic_name, [b"fast-%d" % i]) == (0, i)
        if i % 40 == 0 and sent < 6:
            slow.send_raw(frame[sent:sent + 1])  # one byte now and then
            sent += 1
    assert time.monotonic() - t < 5
    slow.send_raw(frame[sent:])
    r = Reader(slow.recv())
    assert r.take(">i") == 5
    assert parse_produce_v3(r)[(topic_name, 0)] == (0, 200)


def broker_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


@pytest.mark.timeout(180)
def test_ten_thousand_idle_connections(rill_broker, topic_name):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 10000
    if hard != resource.RLIM_INFINITY and hard < want + 200:
        want = hard - 200
    if want < 1000:
        pytest.skip("file descriptor limit too low (%d)" % hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want + 200), hard))
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    rss0 = broker_rss_kib(b.proc.pid)
    host, port = b.bootstrap.rsplit(":", 1)
    idle = []
    try:
        for i in range(want):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect((host, int(port)))
            idle.append(s)
            if i % 1000 == 999:  # the broker keeps answering while they pile up
                assert produce(c, topic_name, [b"%d" % i])[0] == 0
        t = time.monotonic()
        for i in range(50):
            assert produce(c, topic_name, [b"during-%d" % i])[0] == 0
        assert time.monotonic() - t < 5
        rss = broker_rss_kib(b.proc.pid)
        per_conn = (rss - rss0) * 1024 / want
        assert per_conn < 2048, "%.0f bytes per idle connection" % per_conn
    finally:
        for s in idle:
            s.close()
    helpers.wait_for(lambda: still_serves(b.bootstrap), 10, what="the broker after the flood")


def broker_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def join_group_v0_body(group):
    meta = struct.pack(">hi", 0, 0) + struct.pack(">i", -1)  # version, no topics, null data
    return (kstr(group) + struct.pack(">i", 30000) + kstr("") + kstr("consumer")
            + struct.pack(">i", 1) + kstr("range") + struct.pack(">i", len(meta)) + meta)


def test_client_gone_while_its_join_group_waits(rill_broker):
    """A JoinGroup waits for the initial rebalance delay while its connection reads nothing
    more; the client disconnecting then must close the session, not spin the loop."""
    b = rill_broker("-X", "group.initial.rebalance.delay.ms=3000")
    c = Conn(b.bootstrap)
    c.send(11, 0, join_group_v0_body("waiting-group"))
    time.sleep(0.2)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    c.close()
    time.sleep(0.2)
    cpu0 = broker_cpu_seconds(b.proc.pid)
    time.sleep(1.5)
    assert broker_cpu_seconds(b.proc.pid) - cpu0 < 0.5
    assert still_serves(b.bootstrap)
    # A second member after the first one's connection is gone still completes its join.
    d = Conn(b.bootstrap)
    r = d.call(11, 0, join_group_v0_body("waiting-group"))
    assert r.take(">h") == 0  # joined (the dead member was replaced or expired)


def offset_commit_v2_body(group, topic, partition, offset):
    return (kstr(group) + struct.pack(">i", -1) + kstr("") + struct.pack(">q", -1)
            + struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
            + struct.pack(">iq", partition, offset) + kstr(None))


def test_offset_commit_answer_outlives_the_request_bytes(rill_broker, topic_name):
    """An OffsetCommit is answered after the offsets sync, later than its request bytes
    live (they are in a read buffer that is freed or reused at once).  Sent in two pieces,
    so that the broker assembles it in the connection's own buffer and frees that buffer
    right after dispatch, while another connection's reads reuse the shared one: the answer
    must still name the topic sent (the ASan build catches a read of the freed buffer)."""
    b = rill_broker()
    c = Conn(b.bootstrap)
    ensure_topic(c, topic_name)
    other = Conn(b.bootstrap)
    for i in range(20):
        frame = request(8, 2, 1000 + i, offset_commit_v2_body("wire-group", topic_name, 0, i))
        c.send_raw(frame[:len(frame) - 7])
        time.sleep(0.01)
        c.send_raw(frame[len(frame) - 7:])
        other.call(3, 1, metadata_v1_body(["x" * len(topic_name)]))  # reuses the read buffer
        resp = c.recv()
        r = Reader(resp)
        assert r.take(">i") == 1000 + i
        assert r.take(">i") == 1
        assert r.string() == topic_name
        assert r.take(">i") == 1
        assert r.take(">ih") == (0, 0)


def test_requests_pipelined_behind_an_offset_commit_are_answered(rill_broker, topic_name):
    """Clients pipeline on the coordinator connection (librill sends its auto-commit and
    its heartbeat back to back).  The OffsetCommit waits for the offsets sync while the
    requests behind it are already read; once it is answered they must run without waiting
    for more bytes from the client.  (They once sat unread until the session timed out.)"""
    b = rill_broker()
    c = Conn(b.bootstrap, timeout=5.0)
    ensure_topic(c, topic_name)
    for i in range(10):
        commit = request(8, 2, 2000 + i, offset_commit_v2_body("wire-pipe", topic_name, 0, i))
        versions = request(18, 0, 3000 + i, b"")
        c.send_raw(commit + versions)  # one segment: the broker reads both at once
        got = [struct.unpack_from(">i", c.recv())[0] for _ in range(2)]
        assert got == [2000 + i, 3000 + i]


def test_slow_offsets_fsync_does_not_stall_other_clients(rill_broker, topic_name):
    """The offsets store is synced on the flusher thread: while an OffsetCommit waits for a
    slow fdatasync (a shim makes it take 1.5 s, as on a disk busy with other writers), the
    event loop goes on serving every other client.  The commit itself is answered only
    after its sync.  (The sync once ran inside the loop and froze the whole broker, so group
    members missed heartbeats and were thrown out.)"""
    shim = helpers.build_path("tests", "slow_fsync.so")
    assert os.path.exists(shim), shim
    asan = (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    b = rill_broker(env={"LD_PRELOAD": shim, "RILL_SLOW_FSYNC_MATCH": "offsets.log",
                         "RILL_SLOW_FSYNC_MS": "1500", "ASAN_OPTIONS": asan})
    c = Conn(b.bootstrap, timeout=10.0)
    ensure_topic(c, topic_name)
    other = Conn(b.bootstrap, timeout=10.0)
    t0 = time.monotonic()
    c.send_raw(request(8, 2, 4000, offset_commit_v2_body("wire-slow", topic_name, 0, 5)))
    time.sleep(0.2)  # the commit's sync is under way
    quick = []
    for _ in range(5):
        t1 = time.monotonic()
        other.call(18, 0, b"")
        quick.append(time.monotonic() - t1)
    resp = c.recv()
    waited = time.monotonic() - t0
    assert struct.unpack_from(">i", resp)[0] == 4000
    assert waited >= 1.4, "the shim did not slow the offsets sync (%.2f s)" % waited
    assert max(quick) < 0.5, quick
    r = Reader(resp[4:])
    assert r.take(">i") == 1 and r.string() == topic_name
    assert r.take(">i") == 1 and r.take(">ih") == (0, 0)
