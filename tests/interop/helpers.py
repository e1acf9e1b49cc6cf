"""helpers -- the interop test harness: processes and clients the tests drive.

Everything here runs with Debian's /usr/bin/python3 and its packages only
(pytest, kafka-python, confluent_kafka) plus kcat.  The pytest fixtures that
wrap these live in conftest.py; this module holds the plain functions and
classes so that pending/ tests and ad-hoc scripts can import them too.

Rules every helper keeps (DESIGN.md, "Tests"):
  * every server it starts listens on 127.0.0.1 on an ephemeral port and is
    stopped by the test that started it;
  * every wait is bounded: a missing line, a stuck client or a process that
    will not exit turns into a test failure with a message, never a hang.

Locations: RILL_BUILD_DIR (default <repo>/build) and RILL_SOURCE_DIR
(default <repo>), where <repo> is two levels above this file.  RILL_CLI and
RILL_BROKER_BIN override the paths of build/rill and build/rill-broker.
"""

import collections
import os
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# librdkafka's mock cluster keeps at most 5 MiB or 100000 batches per
# partition and silently drops the oldest batches beyond that: tests that
# read everything back must stay below it (watermarks() shows the log start).
MOCK_PARTITION_MAX_BYTES = 5 * 1024 * 1024


class HarnessError(AssertionError):
    """A harness step failed (a process did not start, a wait timed out)."""


def source_dir():
    return os.path.abspath(os.environ.get("RILL_SOURCE_DIR") or os.path.join(HERE, "..", ".."))


def build_dir():
    return os.path.abspath(os.environ.get("RILL_BUILD_DIR") or os.path.join(HERE, "..", "..", "build"))


def build_path(*parts):
    return os.path.join(build_dir(), *parts)


def require_binary(path, what):
    """Returns path if it is an executable file; otherwise fails with a clear message."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise HarnessError(
            "%s not found at %s (build it with `make build`, or set RILL_BUILD_DIR)" % (what, path))
    return path


def rill_cli_path():
    return os.environ.get("RILL_CLI") or build_path("rill")


def rill_broker_path():
    return os.environ.get("RILL_BROKER_BIN") or build_path("rill-broker")


def mockcluster_path():
    return build_path("tests", "mockcluster")


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def closed_port():
    """A 127.0.0.1 port that nothing listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _stop_process(proc, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps."""
    if proc.poll() is None:
        try:
            proc.terminate()
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
    return proc.returncode


class LineReader:
    """Reads a pipe line by line on a daemon thread, so waits can have timeouts.

    Every line is also appended to `lines` (and to `log_path` if given) so a
    failure message can show what the process said."""

    def __init__(self, pipe, log_path=None):
        self.q = queue.Queue()
        self.lines = []
        self.log_path = log_path
        self.thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.thread.start()

    def _run(self, pipe):
        log = open(self.log_path, "a", encoding="utf-8", errors="replace") if self.log_path else None
        try:
            for raw in iter(pipe.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.lines.append(line)
                if log:
                    log.write(line + "\n")
                    log.flush()
                self.q.put(line)
        except (OSError, ValueError):
            pass
        finally:
            if log:
                log.close()
            self.q.put(None)  # end of stream

    def next_line(self, timeout):
        """The next line, None at end of stream; raises HarnessError on timeout."""
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError("no output within %.1f s" % timeout) from None

    def wait_match(self, regex, timeout):
        """Consumes lines until one matches regex (returns the match) or the time runs out."""
        deadline = time.monotonic() + timeout
        pat = re.compile(regex)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("no line matching %r within %.1f s" % (regex, timeout))
            line = self.next_line(left)
            if line is None:
                raise HarnessError("process output ended before a line matching %r" % regex)
            m = pat.search(line)
            if m:
                return m

    def tail(self, n=30):
        """The last n lines; a sanitizer report is shown from its first line (its stack
        is what matters, and it is longer than n lines), up to 80 lines of it."""
        lines = list(self.lines)
        for i, line in enumerate(lines):
            if "ERROR: AddressSanitizer" in line or "runtime error:" in line:
                return "\n".join(lines[i:i + 80])
        return "\n".join(lines[-n:])


# --------------------------------------------------------------------------
# librdkafka's mock cluster (tests/tools/mockcluster.c)
# --------------------------------------------------------------------------

class MockClusterError(HarnessError):
    """The mock cluster answered ERR to a command."""


class MockCluster:
    """A tests/tools/mockcluster process: brokers with ids 1..N on 127.0.0.1.

    .bootstrap is "127.0.0.1:P1,...", .brokers maps id -> "127.0.0.1:P".
    .cmd("leader t 0 2") sends one command and returns the text after OK;
    an ERR answer raises MockClusterError."""

    def __init__(self, brokers=1, start_timeout=15.0, cmd_timeout=15.0, workdir=None):
        exe = require_binary(mockcluster_path(), "mock cluster launcher (tests/tools/mockcluster.c)")
        self.cmd_timeout = cmd_timeout
        self.workdir = workdir or tempfile.mkdtemp(prefix="rill-mock-")
        self.stderr_path = os.path.join(self.workdir, "mockcluster.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([exe, "--brokers", str(brokers)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        self._out = LineReader(self.proc.stdout)
        try:
            line = self._out.next_line(start_timeout)
        except HarnessError:
            self.close()
            raise HarnessError("mockcluster printed no BOOTSTRAP line within %.0f s; stderr:\n%s"
                               % (start_timeout, self.stderr_text()))
        if not line or not line.startswith("BOOTSTRAP "):
            self.close()
            raise HarnessError("mockcluster did not start (%r); stderr:\n%s"
                               % (line, self.stderr_text()))
        self.bootstrap = line.split(" ", 1)[1].strip()
        addrs = self.bootstrap.split(",")
        assert len(addrs) == brokers and all(a.startswith("127.0.0.1:") for a in addrs), addrs
        self.brokers = {i + 1: a for i, a in enumerate(addrs)}

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def try_cmd(self, line):
        """Sends one command; returns (ok, text) where text follows OK / ERR."""
        if "\n" in line:
            raise ValueError("one command per call")
        with self._lock:
            if self.proc.poll() is not None:
                raise HarnessError("mockcluster exited (rc=%s); stderr:\n%s"
                                   % (self.proc.returncode, self.stderr_text()))
            try:
                self.proc.stdin.write(line.encode() + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError) as e:
                raise HarnessError("mockcluster not accepting commands: %s" % e) from None
            try:
                answer = self._out.next_line(self.cmd_timeout)
            except HarnessError:
                raise HarnessError("mockcluster did not answer %r within %.0f s"
                                   % (line, self.cmd_timeout)) from None
        if answer is None:
            raise HarnessError("mockcluster exited while running %r; stderr:\n%s"
                               % (line, self.stderr_text()))
        if answer == "OK" or answer.startswith("OK "):
            return True, answer[3:]
        if answer.startswith("ERR"):
            return False, answer[4:]
        raise HarnessError("unexpected mockcluster answer %r to %r" % (answer, line))

    def cmd(self, line):
        ok, text = self.try_cmd(line)
        if not ok:
            raise MockClusterError("mockcluster: %r -> ERR %s" % (line, text))
        return text

    # Shorthands for the commands tests use most.
    def create_topic(self, name, partitions=1, replication=1):
        self.cmd("topic %s %d %d" % (name, partitions, replication))

    def set_leader(self, topic, partition, broker):
        self.cmd("leader %s %d %d" % (topic, partition, broker))

    def down(self, broker):
        self.cmd("down %d" % broker)

    def up(self, broker):
        self.cmd("up %d" % broker)

    def rtt(self, broker, ms):
        self.cmd("rtt %d %d" % (broker, ms))

    def push_errors(self, apikey, err, count=1):
        """The next `count` requests of `apikey` fail with `err` (number or librdkafka name)."""
        self.cmd("error %s %s %d" % (apikey, err, count))

    def broker_errors(self, broker, apikey, err, rtt_ms=0, count=1):
        self.cmd("broker_error %d %s %s %d %d" % (broker, apikey, err, rtt_ms, count))

    def close(self):
        """Asks the process to quit (stdin EOF), then escalates; idempotent."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _stop_process(self.proc)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self._stderr.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# rill-broker
# --------------------------------------------------------------------------

LISTENING_RE = r"listening on (\[?[0-9A-Za-z.:\-]+?\]?):(\d+)"


class RillBroker:
    """A build/rill-broker process on 127.0.0.1 with its own data directory.

    .bootstrap is "HOST:PORT" as printed on its "listening on HOST:PORT" line.
    .kill(sig) signals it and reaps it, .restart() starts it again on the same
    data directory (and the same port, so clients keep their bootstrap)."""

    def __init__(self, data_dir, extra_args=(), start_timeout=20.0, port=0, env=None):
        self.exe = require_binary(rill_broker_path(), "rill-broker")
        self.env = env  # variables added to ours (e.g. an LD_PRELOAD shim's)
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data_dir)),
                                     os.path.basename(os.path.abspath(data_dir)) + ".log")
        self.proc = None
        self.port = None
        self.stopped_by_test = False
        self._start(port)

    def _start(self, port):
        os.makedirs(self.data_dir, exist_ok=True)
        argv = [self.exe, "--listen", "127.0.0.1:%d" % port, "--data-dir", self.data_dir]
        argv += self.extra_args
        # Debugging aid, e.g. RILL_TEST_BROKER_ARGS="--log-level debug" (the log file is
        # beside the data directory).
        argv += os.environ.get("RILL_TEST_BROKER_ARGS", "").split()
        self.argv = argv
        self.stopped_by_test = False
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._out = LineReader(self.proc.stdout, self.log_path)
        try:
            m = self._out.wait_match(LISTENING_RE, self.start_timeout)
        except HarnessError as e:
            _stop_process(self.proc, grace=2)
            raise HarnessError("rill-broker did not report 'listening on HOST:PORT' (%s); "
                               "command: %s; output:\n%s" % (e, " ".join(argv), self._out.tail()))
        host, self.port = m.group(1).strip("[]"), int(m.group(2))
        assert self.port > 0, m.group(0)
        self.host = host
        self.bootstrap = "%s:%d" % (host if ":" not in host else "[%s]" % host, self.port)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        """Everything the broker printed so far (stdout and stderr)."""
        return "\n".join(self._out.lines)

    def kill(self, sig=signal.SIGKILL, timeout=15.0):
        """Sends sig and waits (bounded) for the exit; returns the exit status."""
        self.stopped_by_test = True
        if self.running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise HarnessError("rill-broker did not exit within %.0f s of signal %d"
                                   % (timeout, sig))
        self._out.thread.join(timeout=2)
        return self.proc.returncode

    def stop(self, timeout=15.0):
        """Graceful stop (SIGTERM); returns the exit status."""
        return self.kill(signal.SIGTERM, timeout)

    def restart(self, same_port=True):
        """Stops it if running (SIGTERM) and starts it again on the same data directory."""
        if self.running:
            self.stop()
        port = self.port if same_port else 0
        deadline = time.monotonic() + 10
        while True:  # the old port can linger briefly in the kernel
            try:
                self._start(port)
                return self
            except HarnessError:
                if not same_port or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            _stop_process(self.proc)
        if self.proc is not None:
            try:
                self.proc.stdout.close()
            except (OSError, ValueError):
                pass


# --------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------

def run_cli(args, input=None, timeout=60.0, env=None, check_binary=True):
    """Runs build/rill with args; returns a CompletedProcess (stdout/stderr as bytes).

    The exit code is not checked (tests assert it).  A run that outlives
    `timeout` is killed and reported as a failure: the CLI must never hang."""
    exe = rill_cli_path()
    if check_binary:
        require_binary(exe, "rill CLI")
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    argv = [exe] + [str(a) for a in args]
    try:
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, env=full_env,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("`%s` did not finish within %.0f s (stderr so far: %r)"
                           % (" ".join(argv), timeout, (e.stderr or b"")[-2000:])) from None


def run_program(argv, input=None, timeout=60.0, env=None):
    """Like run_cli for any program (examples, probes)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        return subprocess.run([str(a) for a in argv], input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=full_env,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("`%s` did not finish within %.0f s (stderr so far: %r)"
                           % (" ".join(map(str, argv)), timeout, (e.stderr or b"")[-2000:])) from None


# --------------------------------------------------------------------------
# Reading back: librdkafka's consumer (confluent_kafka) and kcat
# --------------------------------------------------------------------------

Record = collections.namedtuple("Record", "partition offset key value headers timestamp")
Record.__doc__ = """One consumed message.  headers: list of (name, bytes-or-None), [] if none
(None when the reader cannot tell, as with kcat).  timestamp: epoch ms."""


def _confluent():
    import confluent_kafka  # imported lazily: the harness test reports a clear error if missing
    return confluent_kafka


def partitions_of(bootstrap, topic, timeout=10.0, conf=None):
    """Sorted partition ids of topic, from a Metadata request."""
    ck = _confluent()
    c = ck.Consumer(dict({"bootstrap.servers": bootstrap, "group.id": "rill-harness-md",
                          "log_level": 3}, **(conf or {})))
    try:
        deadline = time.monotonic() + timeout
        while True:
            md = c.list_topics(topic, timeout=max(0.5, deadline - time.monotonic()))
            t = md.topics.get(topic)
            if t is not None and t.error is None and t.partitions:
                return sorted(t.partitions)
            if time.monotonic() >= deadline:
                raise HarnessError("topic %r has no partitions in metadata from %s (error %s)"
                                   % (topic, bootstrap, t.error if t else "missing"))
            time.sleep(0.1)
    finally:
        c.close()


def watermarks(bootstrap, topic, timeout=10.0):
    """{partition: (low, high)} offsets of every partition of topic."""
    ck = _confluent()
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "rill-harness-wm",
                     "log_level": 3})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=timeout)
                for p in partitions_of(bootstrap, topic, timeout)}
    finally:
        c.close()


def consume_all(bootstrap, topic, expected_count, timeout=30.0, partitions=None, conf=None,
                settle=0.0, strict=True):
    """Reads topic from the beginning of every partition with librdkafka's consumer
    (assign, no group membership, no commits) until expected_count messages arrived.

    Returns [Record(partition, offset, key, value, headers, timestamp)] sorted by
    (partition, offset).  settle: keep reading that many seconds more to catch
    extra (duplicate) messages.  strict: fail when fewer than expected arrived."""
    ck = _confluent()
    if partitions is None:
        partitions = partitions_of(bootstrap, topic, timeout=min(timeout, 10.0))
    c = ck.Consumer(dict({
        "bootstrap.servers": bootstrap,
        "group.id": "rill-harness",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "log_level": 3,
        "fetch.message.max.bytes": 4 * 1024 * 1024,
    }, **(conf or {})))
    out = []
    try:
        c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        settle_until = None
        while True:
            now = time.monotonic()
            if len(out) >= expected_count and settle_until is None:
                settle_until = now + settle
            if settle_until is not None and now >= settle_until:
                break
            if now >= deadline:
                break
            batch = c.consume(num_messages=10000, timeout=0.2)
            for m in batch:
                if m.error():
                    raise HarnessError("consumer error on %s: %s" % (topic, m.error()))
                out.append(Record(m.partition(), m.offset(), m.key(), m.value(),
                                  list(m.headers() or []), m.timestamp()[1]))
    finally:
        c.close()
    out.sort(key=lambda r: (r.partition, r.offset))
    if strict and len(out) < expected_count:
        raise HarnessError("consume_all(%s): %d of %d messages within %.0f s"
                           % (topic, len(out), expected_count, timeout))
    return out


# kcat output format, binary-safe: a text header with lengths, then exactly
# that many raw bytes of key and value, then a newline.
_KCAT_FMT = "%p %o %T %K %S\n%k%s\n"
_KCAT_HDR = re.compile(rb"(-?\d+) (-?\d+) (-?\d+) (-?\d+) (-?\d+)\n")


def parse_kcat_output(data):
    """Parses output of kcat -f '%p %o %T %K %S\\n%k%s\\n' into Records (headers None)."""
    out = []
    pos = 0
    while pos < len(data):
        m = _KCAT_HDR.match(data, pos)
        if not m:
            raise HarnessError("unparseable kcat output at byte %d: %r" % (pos, data[pos:pos + 80]))
        part, off, ts, klen, vlen = (int(x) for x in m.groups())
        pos = m.end()
        key = None
        if klen >= 0:
            key = data[pos:pos + klen]
            pos += klen
        value = None
        if vlen >= 0:
            value = data[pos:pos + vlen]
            pos += vlen
        if data[pos:pos + 1] != b"\n":
            raise HarnessError("kcat record at offset %d not terminated as expected" % off)
        pos += 1
        out.append(Record(part, off, key, value, None, ts))
    return out


def kcat_consume(bootstrap, topic, expected_count=None, timeout=30.0, extra_args=()):
    """Reads topic from the beginning of every partition with kcat (librdkafka underneath)
    until the end of every partition; returns Records (headers None) sorted by
    (partition, offset).  With expected_count, fails unless exactly that many arrived."""
    argv = ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
            "-X", "log_level=3", "-f", _KCAT_FMT] + list(extra_args)
    if expected_count is not None:
        argv[argv.index("-e"):argv.index("-e")] = ["-c", str(expected_count)]
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        got = len(parse_kcat_output(e.stdout)) if e.stdout else 0
        raise HarnessError("kcat did not finish within %.0f s (%d records read)" % (timeout, got))
    if r.returncode != 0:
        raise HarnessError("kcat exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))
    out = parse_kcat_output(r.stdout)
    out.sort(key=lambda rec: (rec.partition, rec.offset))
    if expected_count is not None and len(out) != expected_count:
        raise HarnessError("kcat read %d of %d messages from %s" % (len(out), expected_count, topic))
    return out


# --------------------------------------------------------------------------
# Producing with librdkafka (the reference the tests compare librill against)
# --------------------------------------------------------------------------

def confluent_produce(bootstrap, topic, messages, conf=None, timeout=30.0):
    """Produces messages with confluent_kafka and waits for every delivery report.

    messages: iterable of dicts with any of value, key, partition, headers,
    timestamp.  Returns the reports in produce order as
    (error-or-None, partition, offset) tuples."""
    ck = _confluent()
    p = ck.Producer(dict({"bootstrap.servers": bootstrap, "log_level": 3,
                          "message.timeout.ms": int(timeout * 1000)}, **(conf or {})))
    reports = []

    def make_cb(i):
        def cb(err, msg):
            reports[i] = (err, msg.partition(), msg.offset())
        return cb

    for m in messages:
        reports.append(None)
        kw = {k: v for k, v in m.items() if k in ("value", "key", "partition", "headers",
                                                  "timestamp")}
        while True:
            try:
                p.produce(topic, on_delivery=make_cb(len(reports) - 1), **kw)
                break
            except BufferError:
                p.poll(0.1)
    left = p.flush(timeout + 5)
    if left:
        raise HarnessError("confluent producer: %d messages still queued after %.0f s"
                           % (left, timeout + 5))
    return reports
