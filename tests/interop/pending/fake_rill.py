#!/usr/bin/python3
"""fake_rill -- a stand-in for build/rill built on librdkafka (confluent_kafka), to check
the pending tests themselves: a test that librdkafka cannot pass is a wrong test (or,
where noted in the test, a known librdkafka weakness rill must not share).

    RILL_CLI=tests/interop/pending/fake_rill.py python3 -m pytest tests/interop/pending

Implements the CLI of issue 2, item 5: produce, perf produce, topic create/delete,
-b and repeatable -X key=value after the subcommand; exit 0 / 1 / 2.  Like librill,
its default partitioner is murmur2_random.
"""

import getopt
import os
import resource
import sys
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic


def usage(msg):
    print("rill: %s" % msg, file=sys.stderr)
    return 2


def common(opts):
    conf = {"bootstrap.servers": "localhost:9092", "partitioner": "murmur2_random",
            "log_level": 3}
    for o, a in opts:
        if o == "-b":
            conf["bootstrap.servers"] = a
        elif o == "-X":
            if "=" not in a:
                raise ValueError("-X needs KEY=VALUE")
            k, v = a.split("=", 1)
            conf[k] = v
    return conf


def cmd_produce(args):
    try:
        opts, rest = getopt.getopt(args, "t:p:K:H:b:X:")
        conf = common(opts)
    except (getopt.GetoptError, ValueError) as e:
        return usage(str(e))
    o = dict(opts)
    if rest or "-t" not in o:
        return usage("produce: -t TOPIC is required")
    headers = [(a.split("=", 1)[0], a.split("=", 1)[1].encode()) for k, a in opts if k == "-H"]
    delim = o.get("-K", "").encode() or None
    try:
        p = ck.Producer(conf)
    except ck.KafkaException as e:
        print("rill produce: %s" % e, file=sys.stderr)
        return 2
    state = {"ok": 0, "failed": 0}

    def dr(lineno):
        def cb(err, msg):
            if err:
                state["failed"] += 1
                if state["failed"] <= 10:
                    print("rill produce: line %d: %s: %s" % (lineno, err.name(), err.str()),
                          file=sys.stderr)
            else:
                state["ok"] += 1
        return cb

    n = 0
    for raw in sys.stdin.buffer:
        n += 1
        line = raw[:-1] if raw.endswith(b"\n") else raw
        key, value = None, line
        if delim and delim in line:
            key, value = line.split(delim, 1)
        kw = dict(value=value, key=key, on_delivery=dr(n))
        if headers:
            kw["headers"] = headers
        if "-p" in o:
            kw["partition"] = int(o["-p"])
        while True:
            try:
                p.produce(o["-t"], **kw)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    timeout = int(conf.get("delivery.timeout.ms", conf.get("message.timeout.ms", 300000)))
    p.flush(timeout / 1000.0 + 10)
    if state["ok"] != n:
        print("rill produce: %d of %d messages not acknowledged" % (n - state["ok"], n),
              file=sys.stderr)
        return 1
    return 0


def cmd_perf(args):
    if not args or args[0] != "produce":
        return usage("perf: only 'perf produce'")
    try:
        opts, rest = getopt.getopt(args[1:], "t:n:s:p:b:X:")
        conf = common(opts)
    except (getopt.GetoptError, ValueError) as e:
        return usage(str(e))
    o = dict(opts)
    if rest or "-t" not in o:
        return usage("perf produce: -t TOPIC is required")
    count, size = int(o.get("-n", 1000000)), int(o.get("-s", 100))
    if count <= 0 or size < 0:
        return usage("perf produce: -n must be > 0 and -s >= 0")
    p = ck.Producer(conf)
    st = {"ok": 0, "failed": 0}

    def cb(err, msg):
        st["failed" if err else "ok"] += 1
    payload = b"x" * size
    t0 = time.monotonic()
    for _ in range(count):
        while True:
            try:
                if "-p" in o:
                    p.produce(o["-t"], payload, partition=int(o["-p"]), on_delivery=cb)
                else:
                    p.produce(o["-t"], payload, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
    dt = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime
    print("%d msgs x %d B in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s (%.0f ns/msg) "
          "maxrss=%d KiB delivered=%d failed=%d" % (
              count, size, dt, st["ok"] / dt, st["ok"] * size / dt / 1e6, cpu,
              cpu / max(st["ok"], 1) * 1e9, ru.ru_maxrss, st["ok"], st["failed"]))
    return 1 if st["failed"] else 0


def cmd_topic(args):
    if not args or args[0] not in ("create", "delete"):
        return usage("topic: create or delete")
    try:
        opts, rest = getopt.gnu_getopt(args[1:], "p:r:b:X:")
        conf = common(opts)
    except (getopt.GetoptError, ValueError) as e:
        return usage(str(e))
    if not rest:
        return usage("topic: a topic name is required")
    o = dict(opts)
    conf.pop("partitioner", None)
    a = AdminClient(conf)
    if args[0] == "create":
        fs = a.create_topics([NewTopic(t, int(o.get("-p", 1)), int(o.get("-r", 1)))
                              for t in rest], operation_timeout=10, request_timeout=15)
    else:
        fs = a.delete_topics(rest, operation_timeout=10, request_timeout=15)
    rc = 0
    for t, f in fs.items():
        try:
            f.result(20)
        except Exception as e:  # noqa: BLE001 -- report every kind of failure
            print("rill topic %s: %s: %s" % (args[0], t, e), file=sys.stderr)
            rc = 1
    return rc


def main(argv):
    if not argv:
        return usage("a command is required")
    cmds = {"produce": cmd_produce, "perf": cmd_perf, "topic": cmd_topic}
    if argv[0] not in cmds:
        return usage("unknown command %s" % argv[0])
    return cmds[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.stdout.flush()
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
