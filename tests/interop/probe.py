"""probe -- drives build/tests/produce_probe (tests/tools/produce_probe.c) from tests.

The probe runs librill's producer and takes a binary-safe script on stdin
(see produce_probe.c).  A Probe keeps the process up so that a test can act
between flushes: produce some messages, flush, move a leader or inject an
error, produce more.  Override the binary with RILL_PROBE.
"""

import os
import subprocess
import time

import helpers
from helpers import HarnessError


def probe_path():
    return os.environ.get("RILL_PROBE") or helpers.build_path("tests", "produce_probe")


def encode_message(value, key=None, headers=(), partition=-1):
    """The script item for one message (None key/value/header value: null)."""
    def blen(b):
        return -1 if b is None else len(b)
    out = [b"M %d %d %d %d\n" % (partition, blen(key), blen(value), len(headers))]
    for name, hval in headers:
        name = name.encode() if isinstance(name, str) else name
        out.append(b"%d %d\n" % (len(name), blen(hval)))
        out.append(name)
        if hval is not None:
            out.append(hval)
    if key is not None:
        out.append(key)
    if value is not None:
        out.append(value)
    return b"".join(out)


class Probe:
    """One produce_probe process.  .produce() queues, .flush() waits for reports,
    .reports maps seq -> (error word, partition, offset)."""

    def __init__(self, bootstrap, topic, conf=None, final_flush_ms=20000):
        exe = helpers.require_binary(probe_path(),
                                     "produce_probe (tests/tools/produce_probe.c)")
        argv = [exe, "-b", bootstrap, "-t", topic, "-w", str(final_flush_ms)]
        for k, v in (conf or {}).items():
            argv += ["-X", "%s=%s" % (k, v)]
        self.final_flush_s = final_flush_ms / 1000.0
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = helpers.LineReader(self.proc.stdout)
        self.err = helpers.LineReader(self.proc.stderr)
        self.seq = 0
        self.reports = {}
        self.produce_errors = {}
        self.done = None

    def _send(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise HarnessError("produce_probe exited early; stderr:\n%s" % self.err.tail())

    def _take(self, line):
        w = line.split()
        if w[0] == "DR":
            self.reports[int(w[1])] = (w[2], int(w[3]), int(w[4]))
        elif w[0] == "PRODUCE_ERR":
            self.produce_errors[int(w[1])] = w[2]
        elif w[0] == "DONE":
            self.done = dict(kv.split("=") for kv in w[1:])

    def _until(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("produce_probe: no %s within %.0f s; stderr:\n%s"
                                   % (prefix, timeout, self.err.tail()))
            line = self.out.next_line(left)
            if line is None:
                raise HarnessError("produce_probe ended before %s; stderr:\n%s"
                                   % (prefix, self.err.tail()))
            self._take(line)
            if line.startswith(prefix):
                return line

    def produce(self, value, key=None, headers=(), partition=-1):
        """Queues one message; returns its seq."""
        self._send(encode_message(value, key, headers, partition))
        self.seq += 1
        return self.seq - 1

    def flush(self, timeout_ms=30000):
        """rill_flush; returns its result word ("OK" or an error name)."""
        self._send(b"F %d\n" % timeout_ms)
        return self._until("FLUSHED", timeout_ms / 1000.0 + 15).split()[1]

    def finish(self):
        """Closes the script; returns the exit status after DONE."""
        self.proc.stdin.close()
        self._until("DONE", self.final_flush_s + 15)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise HarnessError("produce_probe did not exit after DONE")

    def stderr_text(self):
        return "\n".join(self.err.lines)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=self.final_flush_s + 15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
