"""fakebroker -- a scripted Kafka broker on 127.0.0.1 for bad-response tests.

It answers ApiVersions, Metadata and InitProducerId properly (narrow,
non-flexible version ranges: ApiVersions 0-2, Metadata 1, Produce 3-7
(0-7 advertised), InitProducerId 0-1, with Fetch and FindCoordinator
advertised but not served; a newer ApiVersions request gets Kafka's v0-format
UNSUPPORTED_VERSION answer with these ranges), and answers each Produce
request according to a script of behaviours:

  ok              a well-formed success response (offsets assigned)
  error:CODE      a well-formed response with that error code per partition
  short           a frame whose size is right but whose body stops early
  cut             a size prefix promising more than is sent, then close
  negative_size   a size prefix of -5
  huge_size       a size prefix of 0x7ffffff0, a few bytes, then silence
  wrong_corr      a well-formed response with the wrong correlation id
  garbage         random bytes in a well-sized frame
  huge_count      a response whose topic array claims 2**31-1 entries
  wrong_topic     a well-formed response naming a topic that was not sent
  silent          no response at all (the client's request timeout must fire)
  close           close the connection without a response

Only "ok" counts as an acknowledgement: .acked holds every record value the
broker really acknowledged (a batch an idempotent producer resends with the
same sequence is acknowledged again but listed once, as Kafka deduplicates) (uncompressed batches are decoded; the tests use
compression.type=none), so a test can check that a client never reports a
delivery that was not acknowledged.  .produce_log records each Produce request
(behaviour, topic, partition, batch attributes, producer id, base sequence,
record count), .connections counts accepted connections and
.closed_by_client the connections the client closed.

Standalone: python3 fakebroker.py [--partitions N] [BEHAVIOUR ...] prints
"listening on 127.0.0.1:PORT" and serves until interrupted.
"""

import os
import socket
import struct
import sys
import threading

API_PRODUCE, API_FETCH, API_METADATA, API_FIND_COORDINATOR = 0, 1, 3, 10
API_API_VERSIONS, API_INIT_PRODUCER_ID = 18, 22
# Fetch and FindCoordinator are advertised but never served: librdkafka infers
# features from the ranges (record batch v2 and idempotence need Fetch v4+,
# lz4 needs FindCoordinator, zstd Fetch v10, gzip/snappy Produce v0).  Produce requests
# older than v3 (message sets v0/v1) are refused: clients pick the highest.
SUPPORTED = {API_PRODUCE: (0, 7), API_FETCH: (0, 12), API_METADATA: (1, 1),
             API_FIND_COORDINATOR: (0, 0), API_API_VERSIONS: (0, 2),
             API_INIT_PRODUCER_ID: (0, 1)}
NOT_SERVED = (API_FETCH, API_FIND_COORDINATOR)
MIN_PRODUCE = 3
UNSUPPORTED_VERSION = 35
NODE_ID = 1


class Reader:
    """Big-endian reader over one request body; raises ValueError past the end."""

    def __init__(self, data, pos=0):
        self.d, self.p = data, pos

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise ValueError("short read")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def bytes_(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self):
        v = self.uvarint()
        return (v >> 1) ^ -(v & 1)


def s16(v):
    return struct.pack(">h", v)


def s32(v):
    return struct.pack(">i", v)


def s64(v):
    return struct.pack(">q", v)


def sstr(s):
    if s is None:
        return s16(-1)
    b = s.encode()
    return s16(len(b)) + b


def frame(corr, body):
    payload = s32(corr) + body
    return s32(len(payload)) + payload


def parse_batches(records):
    """[(attributes, producer_id, base_seq, count, values-or-None)] of a records blob."""
    out = []
    r = Reader(records)
    while r.p < len(records):
        r.i64()                       # base offset
        length = r.i32()
        body = Reader(r.take(length))
        body.i32()                    # partition leader epoch
        magic = body.i8()
        if magic != 2:
            raise ValueError("magic %d" % magic)
        body.take(4)                  # crc
        attrs = body.i16()
        body.i32()                    # last offset delta
        body.i64(), body.i64()        # timestamps
        pid, _epoch, base_seq = body.i64(), body.i16(), body.i32()
        count = body.i32()
        values = None
        if attrs & 0x07 == 0:
            values = []
            for _ in range(count):
                rec = Reader(body.take(body.varint()))
                rec.i8()
                rec.varint(), rec.varint()            # timestamp delta, offset delta
                klen = rec.varint()
                if klen >= 0:
                    rec.take(klen)
                vlen = rec.varint()
                values.append(rec.take(vlen) if vlen >= 0 else None)
        out.append((attrs, pid, base_seq, count, values))
    return out


class FakeBroker:
    def __init__(self, script=(), default="ok", partitions=1, topic_error=0):
        self.script = list(script)
        self.default = default
        self.partitions = partitions
        self.topic_error = topic_error
        self.lock = threading.Lock()
        self.acked = []            # record values acknowledged by an "ok" response
        self.produce_log = []
        self.connections = 0
        self.closed_by_client = 0
        self.errors = []           # requests the fake could not parse (a test bug or client bug)
        self.next_offset = {}
        self.seen = set()          # (producer id, topic, partition, base sequence) acknowledged
        self.next_pid = 1000
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.bootstrap = "127.0.0.1:%d" % self.port
        self.stopping = False
        self.conns = []
        self.threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self.threads[0].start()

    # -- plumbing -----------------------------------------------------------

    def _accept_loop(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    @staticmethod
    def _recv_exact(c, n):
        buf = b""
        while len(buf) < n:
            chunk = c.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self, c):
        c.settimeout(0.5)
        try:
            while not self.stopping:
                try:
                    hdr = self._recv_exact(c, 4)
                except socket.timeout:
                    continue
                if hdr is None:
                    with self.lock:
                        self.closed_by_client += 1
                    return
                size = struct.unpack(">i", hdr)[0]
                if size < 8 or size > 64 * 1024 * 1024:
                    self.errors.append("bad request size %d" % size)
                    return
                c.settimeout(10)
                body = self._recv_exact(c, size)
                c.settimeout(0.5)
                if body is None:
                    with self.lock:
                        self.closed_by_client += 1
                    return
                if not self._handle(c, body):
                    return
        except (OSError, socket.timeout):
            return
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self.threads:
            t.join(timeout=3)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -----------------------------------------------------------

    def _handle(self, c, body):
        """Answers one request; returns False to close the connection."""
        r = Reader(body)
        key, ver, corr = r.i16(), r.i16(), r.i32()
        if key == API_API_VERSIONS:
            c.sendall(self._api_versions(ver, corr))
            return True
        lo_hi = SUPPORTED.get(key)
        if (key in NOT_SERVED or lo_hi is None or not lo_hi[0] <= ver <= lo_hi[1] or
                (key == API_PRODUCE and ver < MIN_PRODUCE)):
            self.errors.append("unexpected request api %d v%d" % (key, ver))
            return False
        r.string()  # client id (header v1: these APIs/versions are not flexible)
        try:
            if key == API_METADATA:
                c.sendall(self._metadata(r, corr))
            elif key == API_INIT_PRODUCER_ID:
                r.string(), r.i32()
                with self.lock:
                    pid, self.next_pid = self.next_pid, self.next_pid + 1
                c.sendall(frame(corr, s32(0) + s16(0) + s64(pid) + s16(0)))
            else:
                return self._produce(c, r, ver, corr)
        except ValueError as e:
            self.errors.append("unparseable request api %d v%d: %s" % (key, ver, e))
            return False
        return True

    def _api_versions(self, ver, corr):
        keys = b"".join(s16(k) + s16(lo) + s16(hi) for k, (lo, hi) in sorted(SUPPORTED.items()))
        arr = s32(len(SUPPORTED)) + keys
        if ver > SUPPORTED[API_API_VERSIONS][1]:
            return frame(corr, s16(UNSUPPORTED_VERSION) + arr)   # v0 shape, as Kafka does
        return frame(corr, s16(0) + arr + (s32(0) if ver >= 1 else b""))

    def _metadata(self, r, corr):
        n = r.i32()
        names = [r.string() for _ in range(max(n, 0))]
        brokers = s32(1) + s32(NODE_ID) + sstr("127.0.0.1") + s32(self.port) + sstr(None)
        topics = b""
        for name in names:
            parts = b"".join(s16(0) + s32(p) + s32(NODE_ID) + s32(1) + s32(NODE_ID) + s32(1) +
                             s32(NODE_ID) for p in range(self.partitions))
            topics += s16(self.topic_error) + sstr(name) + b"\x00" + s32(self.partitions) + parts
        return frame(corr, brokers + s32(NODE_ID) + s32(len(names)) + topics)

    def _next_behaviour(self):
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def _produce(self, c, r, ver, corr):
        r.string()                        # transactional id
        acks = r.i16()
        r.i32()                           # timeout
        req = []
        for _ in range(r.i32()):
            topic = r.string()
            for _ in range(r.i32()):
                part = r.i32()
                req.append((topic, part, r.bytes_() or b""))
        behaviour = self._next_behaviour()
        batches = [(t, p, parse_batches(recs)) for t, p, recs in req]
        with self.lock:
            for t, p, bl in batches:
                for attrs, pid, seq, count, _ in bl:
                    self.produce_log.append(dict(behaviour=behaviour, topic=t, partition=p,
                                                 attributes=attrs, producer_id=pid,
                                                 base_sequence=seq, count=count))

        def response(topic_override=None, err=0, commit=False):
            """The Produce response body; commit: assign the offsets for real."""
            body = s32(len(req))
            for t, p, bl in batches:
                n = sum(b[3] for b in bl)
                with self.lock:
                    base = self.next_offset.get((t, p), 0)
                    if err == 0 and commit:
                        self.next_offset[(t, p)] = base + n
                body += sstr(topic_override or t) + s32(1) + s32(p) + s16(err)
                body += s64(base if err == 0 else -1) + s64(-1)
                if ver >= 5:
                    body += s64(0)
            return body + s32(0)

        if behaviour == "ok":
            # Counted as acknowledged before it is sent: a client can only
            # know of an acknowledgement that is already in .acked.  A batch
            # resent by an idempotent producer (same producer id, partition and
            # base sequence) is acknowledged again but not counted twice, as
            # Kafka does: the client may never have read the first answer.
            with self.lock:
                for t, p, bl in batches:
                    for _, pid, seq, _, values in bl:
                        ident = (pid, t, p, seq)
                        if pid >= 0 and seq >= 0:
                            if ident in self.seen:
                                continue
                            self.seen.add(ident)
                        self.acked.extend(values or [])
            body = response(commit=True)
            if acks != 0:
                c.sendall(frame(corr, body))
            return True
        if behaviour.startswith("error:"):
            c.sendall(frame(corr, response(err=int(behaviour.split(":")[1]))))
            return True
        if behaviour == "short":
            good = frame(corr, response())
            cut = good[4:4 + 4 + 7]                       # corr id + a partial topic array
            c.sendall(s32(len(cut)) + cut)
            return True
        if behaviour == "cut":
            good = frame(corr, response())
            c.sendall(good[:len(good) // 2])
            return False
        if behaviour == "negative_size":
            c.sendall(s32(-5) + s32(corr))
            return True
        if behaviour == "huge_size":
            c.sendall(s32(0x7FFFFFF0) + s32(corr) + b"\x00" * 16)
            return True
        if behaviour == "wrong_corr":
            c.sendall(frame(corr + 7, response()))
            return True
        if behaviour == "garbage":
            junk = os.urandom(64)
            c.sendall(s32(len(junk) + 4) + s32(corr) + junk)
            return True
        if behaviour == "huge_count":
            c.sendall(frame(corr, s32(0x7FFFFFFF) + sstr("x")))
            return True
        if behaviour == "wrong_topic":
            c.sendall(frame(corr, response(topic_override="not-the-topic-you-sent")))
            return True
        if behaviour == "silent":
            return True
        if behaviour == "close":
            return False
        raise ValueError("unknown behaviour %r" % behaviour)


def main(argv):
    parts = 1
    if argv[:1] == ["--partitions"]:
        parts, argv = int(argv[1]), argv[2:]
    fb = FakeBroker(script=argv, partitions=parts)
    print("listening on %s" % fb.bootstrap, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    fb.close()


if __name__ == "__main__":
    main(sys.argv[1:])
