#!/usr/bin/env python3
"""compare.py -- turns the raw lines of bench/run.sh into bench/RESULTS.md.

Input (--raw): one line per run, written by run.sh:
    RESULT kind=produce target=mock client=librdkafka size=100 codec=none rep=1 rc=0 | <line>
where <line> is what the probe printed last, in the shape shared by rdperf and
`rill perf produce`:
    N msgs x S B in T s: R msgs/s M MB/s cpu=C s (X ns/msg) maxrss=K KiB delivered=D failed=F
(rdconsume's line has no "x S B" and no delivered/failed; `rill perf consume` prints the
produce shape, S being the average value size; rdlatency's line (kind=latency) adds
p50_us= p99_us= p999_us= max_us=; fetchprobe's (kind=fetch) is the produce shape; an
idle line (kind=idle) is just idle_rss_kib=K; storeprobe's (kind=store) is fresh_gbs=
fresh_cpu_s= warm_gbs= direct_gbs= anon_gbs=).  A run whose line
does not parse, or whose exit status is not 0, is counted as failed and left
out of the medians.  --meta holds "key: value" lines about the machine,
--commands the exact command lines, --notes free text lines.

Output: the bars of issue 3 (rill-broker) met or not, medians per (kind, target, client,
size, codec), the rill/librdkafka ratios against the bars of the issues, rill-broker /
mock ratios (acks=1 and acks=all), acknowledgement latency, fetch, what storing bytes costs
on the machine and idle memory, a text
plot, the commands and the raw lines.  Standard library only.
"""

import argparse
import re
import statistics
import sys
from collections import OrderedDict

RESULT_RE = re.compile(r"^RESULT (?P<tags>[^|]*)\|\s?(?P<line>.*)$")
LINE_RE = re.compile(
    r"(?P<n>\d+) msgs(?: x (?P<size>\d+) B)? in (?P<secs>[\d.]+) s: (?P<rate>[\d.]+) msgs/s "
    r"(?P<mbs>[\d.]+) MB/s cpu=(?P<cpu>[\d.]+) s \((?P<nsmsg>[\d.]+) ns/msg\) "
    r"maxrss=(?P<rss>\d+) KiB(?: delivered=(?P<delivered>\d+) failed=(?P<failed>\d+))?")

LAT_RE = re.compile(r"p50_us=(?P<p50>[\d.]+) p99_us=(?P<p99>[\d.]+) p999_us=(?P<p999>[\d.]+) "
                    r"max_us=(?P<pmax>[\d.]+)")
IDLE_RE = re.compile(r"idle_rss_kib=(?P<idle_rss>\d+)")
STORE_RE = re.compile(r"fresh_gbs=(?P<fresh_gbs>[\d.]+) fresh_cpu_s=(?P<fresh_cpu>[\d.]+) "
                      r"warm_gbs=(?P<warm_gbs>[\d.]+) direct_gbs=(?P<direct_gbs>[\d.]+) "
                      r"anon_gbs=(?P<anon_gbs>[\d.]+)")
# librdkafka's mock cluster keeps this much of a partition (rdkafka_mock.c: max_size).
MOCK_KEEPS_MIB = 5
BT_RE = re.compile(r"broker_produce_requests=(?P<bt_n>\d+) broker_p99_le_us=(?P<bt_p99>[\d.e+]+) "
                   r"broker_within_1ms_pct=(?P<bt_1ms>[\d.]+)")

# The bars from the issues: (what, size) -> minimum ratio rill / anchor.
CLIENT_BARS = {100: 1.5, 1024: 1.2}      # issue 2: rill msgs/s vs librdkafka 2.0.2
BROKER_BAR = 1.0                          # issue 3: rill-broker vs mock cluster, acks=1
ACKS_ALL_BAR = 0.5                        # issue 3: the same with acks=all (fsync on)
LATENCY_P99_BAR_US = 1000.0               # issue 3: p99 ack latency, acks=1, 10k msgs/s
FETCH_BAR_MBS = 1000.0                    # issue 3: fetch of 1 KiB messages, MB/s
IDLE_RSS_BAR_KIB = 16 * 1024              # issue 3: idle RSS of rill-broker
CONSUME_BAR = 1.5                         # issue 4: rill perf consume vs librdkafka msgs/s


def parse_tags(text):
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def parse_runs(lines):
    runs = []
    for raw in lines:
        m = RESULT_RE.match(raw.rstrip("\n"))
        if not m:
            continue
        tags = parse_tags(m.group("tags"))
        rec = dict(tags)
        rec["raw"] = m.group("line")
        lm = LINE_RE.search(m.group("line"))
        ok = lm is not None and tags.get("rc") == "0"
        if tags.get("kind") == "idle":
            im = IDLE_RE.search(m.group("line"))
            ok = im is not None and tags.get("rc") == "0"
            if im:
                rec["idle_rss"] = float(im.group("idle_rss"))
        if tags.get("kind") == "store":
            sm = STORE_RE.search(m.group("line"))
            ok = sm is not None and tags.get("rc") == "0"
            if sm:
                rec.update({k: float(v) for k, v in sm.groupdict().items()})
        if tags.get("kind") == "brokertime":
            bm = BT_RE.search(m.group("line"))
            ok = bm is not None and tags.get("rc") == "0"
            if bm:
                rec.update({k: float(v) for k, v in bm.groupdict().items()})
        if tags.get("kind") == "latency":
            am = LAT_RE.search(m.group("line"))
            ok = ok and am is not None
            if am:
                rec.update({k: float(v) for k, v in am.groupdict().items()})
        if lm:
            rec.update({k: float(v) for k, v in lm.groupdict().items() if v is not None})
            if "size" in tags:
                rec["size"] = tags["size"]  # the line's "x S B" may be a mean (fetchprobe)
            if lm.group("failed") is not None and int(lm.group("failed")) > 0:
                ok = False
            if lm.group("delivered") is not None and lm.group("delivered") != lm.group("n"):
                ok = False                  # some reports never came (flush timed out)
        rec["ok"] = ok
        runs.append(rec)
    return runs


def group(runs):
    """{(kind, target, client, size, codec): [runs]} in first-seen order."""
    out = OrderedDict()
    for r in runs:
        key = (r.get("kind", "produce"), r.get("target", "?"), r.get("client", "?"),
               int(float(r.get("size", 0) or 0)), r.get("codec", "-"))
        out.setdefault(key, []).append(r)
    return out


def med(rs, field):
    vals = [r[field] for r in rs if r["ok"] and field in r]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    if v is None:
        return "—"
    return "{:,.{d}f}".format(v, d=digits)


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def yes_no(cond):
    return "—" if cond is None else ("yes" if cond else "no")


def size_label(s):
    return "1 KiB" if s == 1024 else "%d B" % s


def bar(value, vmax, width=40):
    if not value or not vmax:
        return ""
    return "#" * max(1, int(round(width * value / vmax)))


def broker_ratio_rows(g, kind):
    """[(size, codec, mock runs, rill-broker runs)] for librdkafka's producer, one kind."""
    rows = []
    for (k, tgt, client, size, codec), rs in g.items():
        if k == kind and tgt == "rill-broker" and client == "librdkafka":
            mock = g.get((k, "mock", client, size, codec))
            if mock:
                rows.append((size, codec, mock, rs))
    return rows


def broker_sections(g, w):
    """Issue 3: rill-broker against the mock cluster and the absolute bars."""
    summary = []
    acks1 = broker_ratio_rows(g, "produce")
    acks_all = broker_ratio_rows(g, "acksall")
    lat = [(k, rs) for k, rs in g.items() if k[0] == "latency"]
    own = [r for k, rs in g.items() if k[0] == "brokertime" for r in rs if r["ok"]]
    fetch = [(k, rs) for k, rs in g.items() if k[0] == "fetch"]
    consume = [(k, rs) for k, rs in g.items() if k[0] == "consume"]
    idle = [(k, rs) for k, rs in g.items() if k[0] == "idle"]
    store = [r for k, rs in g.items() if k[0] == "store" for r in rs]

    for size, codec, mock, rs in acks1:
        r = ratio(med(rs, "rate"), med(mock, "rate"))
        summary.append(("produce, acks=1, %s %s: rill-broker / mock msgs/s" % (size_label(size), codec),
                        "%s×" % fmt(r, 2), "≥ %s×" % BROKER_BAR,
                        yes_no(None if r is None else r >= BROKER_BAR)))
    for size, codec, mock, rs in acks_all:
        r = ratio(med(rs, "rate"), med(mock, "rate"))
        summary.append(("produce, acks=all + fsync, %s %s: rill-broker / mock msgs/s"
                        % (size_label(size), codec), "%s×" % fmt(r, 2), "≥ %s×" % ACKS_ALL_BAR,
                        yes_no(None if r is None else r >= ACKS_ALL_BAR)))
    for (kind, tgt, client, size, codec), rs in lat:
        if tgt != "rill-broker":
            continue
        p99 = med(rs, "p99")
        summary.append(("ack latency p99, acks=1, fixed rate, %s: rill-broker (median of runs)"
                        % size_label(size), "%s µs" % fmt(p99, 0),
                        "< %s µs" % fmt(LATENCY_P99_BAR_US), yes_no(None if p99 is None
                                                                     else p99 < LATENCY_P99_BAR_US)))
    if own:
        worst = max(r["bt_p99"] for r in own)
        summary.append(("  of which rill-broker's own Produce handling, p99 (its --metrics, worst "
                        "run)", "≤ %s µs" % fmt(worst), "(< %s µs)" % fmt(LATENCY_P99_BAR_US),
                        yes_no(worst < LATENCY_P99_BAR_US)))
    # The bar is the broker's: the raw reader; consumers are shown for what they get.
    for (kind, tgt, client, size, codec), rs in fetch + consume:
        if size != 1024:
            continue
        mbs = med(rs, "mbs")
        raw = kind == "fetch"
        summary.append(("fetch, 1 KiB messages, " + ("%s (raw Fetch reader)" if raw else
                                                     "through a consumer: %s") % client,
                        "%s MB/s" % fmt(mbs, 0), ("≥ %s MB/s" if raw else "(≥ %s MB/s)")
                        % fmt(FETCH_BAR_MBS), yes_no(None if mbs is None else mbs >= FETCH_BAR_MBS)))
    for (kind, tgt, client, size, codec), rs in idle:
        v = med(rs, "idle_rss")
        summary.append(("idle RSS of rill-broker (%s)" % client, "%s KiB" % fmt(v),
                        "< %s KiB" % fmt(IDLE_RSS_BAR_KIB),
                        yes_no(None if v is None else v < IDLE_RSS_BAR_KIB)))
    if not summary:
        return
    w("## Issue 3 (rill-broker): the bars")
    w("")
    w("Medians of the runs below; ratios from runs interleaved in this session.")
    w("")
    w("| what | figure | bar | met |")
    w("|---|---:|---:|---|")
    for row in summary:
        w("| %s | %s | %s | %s |" % row)
    w("")

    for title, rows, barv in (
            ("rill-broker / mock cluster, same librdkafka producer (acks=1)", acks1, BROKER_BAR),
            ("rill-broker / mock cluster, same librdkafka producer, acks=all (rill-broker "
             "answers after fsync)", acks_all, ACKS_ALL_BAR)):
        if not rows:
            continue
        w("## " + title)
        w("")
        w("| value size | compression | mock msgs/s | rill-broker msgs/s | ratio | bar "
          "| librdkafka CPU ns/msg (mock / rill-broker) | met |")
        w("|---|---|---:|---:|---:|---:|---:|---|")
        for size, codec, mock, rs in rows:
            r = ratio(med(rs, "rate"), med(mock, "rate"))
            w("| %s | %s | %s | %s | %s× | ≥ %s× | %s / %s | %s |" % (
                size_label(size), codec, fmt(med(mock, "rate")), fmt(med(rs, "rate")), fmt(r, 2),
                barv, fmt(med(mock, "nsmsg")), fmt(med(rs, "nsmsg")),
                yes_no(None if r is None else r >= barv)))
        w("")

    if lat:
        w("## Acknowledgement latency (librdkafka producer, acks=1, linger.ms=0, fixed rate)")
        w("")
        w("Time from rd_kafka_producev() to the message's delivery report (build/bench/"
          "rdlatency), every message of each run; medians over the runs of each percentile, "
          "and each run's p99.")
        w("")
        w("| target | value size | achieved msgs/s | p50 µs | p99 µs | p99.9 µs | max µs "
          "| p99 of each run (µs) | ok runs |")
        w("|---|---|---:|---:|---:|---:|---:|---|---:|")
        for (kind, tgt, client, size, codec), rs in lat:
            each = ", ".join(fmt(r["p99"]) for r in rs if r["ok"] and "p99" in r)
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
                tgt, size_label(size), fmt(med(rs, "rate")), fmt(med(rs, "p50")),
                fmt(med(rs, "p99")), fmt(med(rs, "p999")), fmt(med(rs, "pmax")), each,
                sum(r["ok"] for r in rs), len(rs)))
        w("")
        if own:
            w("rill-broker's own time per Produce request in its runs (its --metrics histogram, "
              "from the request read to its response ready, so without the time a request waits "
              "for the loop): p99 within %s µs (histogram bucket bounds, per run); %s%% of "
              "requests within 1 ms (lowest run). The rest of the latency is the client and "
              "the machine's scheduling." % (", ".join(fmt(r["bt_p99"]) for r in own),
                                              fmt(min(r["bt_1ms"] for r in own), 2)))
            w("")

    if fetch:
        w("## Fetch from rill-broker (raw Fetch reader)")
        w("")
        w("build/bench/fetchprobe: Fetch v4 requests one at a time, 1 MiB per partition, "
          "records not decoded, from the beginning of the topic the consume round reads.")
        w("")
        w("| value size | msgs/s | MB/s | reader CPU ns/msg | ok runs |")
        w("|---|---:|---:|---:|---:|")
        for (kind, tgt, client, size, codec), rs in fetch:
            w("| %s | %s | %s | %s | %d/%d |" % (
                size_label(size), fmt(med(rs, "rate")), fmt(med(rs, "mbs"), 1),
                fmt(med(rs, "nsmsg")), sum(r["ok"] for r in rs), len(rs)))
        w("")

    if store:
        w("## What keeping bytes costs on this machine (build/bench/storeprobe, 1 GiB)")
        w("")
        w("rill-broker keeps what it acknowledges: every produced byte is copied into page "
          "cache it has not used before (a new segment). librdkafka's mock cluster keeps at "
          "most %d MiB of a partition (rdkafka_mock.c) and reuses that memory. 1 MiB writes:"
          % MOCK_KEEPS_MIB)
        w("")
        w("| into | GB/s (median) | each run |")
        w("|---|---:|---|")
        for label, key in (("new page cache (a new file)", "fresh_gbs"),
                           ("cached pages (the same file again)", "warm_gbs"),
                           ("the disk (O_DIRECT, one write at a time)", "direct_gbs"),
                           ("new anonymous memory (first touch)", "anon_gbs")):
            w("| %s | %s | %s |" % (label, fmt(med(store, key), 2),
                                    ", ".join(fmt(r[key], 2) for r in store if r["ok"])))
        w("")
        fresh = med(store, "fresh_gbs")
        if fresh:
            w("At the median rate for new page cache, every GB a broker keeps takes %s s of "
              "copying by itself (a run of 2M x 1 KiB messages keeps 2 GB)." % fmt(1.0 / fresh, 2))
            w("")

    if idle:
        w("## Idle memory of rill-broker")
        w("")
        w("| when | VmRSS KiB | bar |")
        w("|---|---:|---:|")
        for (kind, tgt, client, size, codec), rs in idle:
            w("| %s | %s | < %s |" % (client, fmt(med(rs, "idle_rss")), fmt(IDLE_RSS_BAR_KIB)))
        w("")


def render(runs, meta, commands, notes):
    g = group(runs)
    out = []
    w = out.append
    w("# Benchmark results")
    w("")
    w("Written by `make bench` (bench/run.sh → bench/compare.py). Medians of %s runs per row; "
      "the machines are noisy, so read the ratios, which come from runs interleaved in the "
      "same session (odd repetitions run librdkafka first, even ones rill first)."
      % meta.get("repetitions", "?"))
    w("")
    w("## Machine and settings")
    w("")
    for k, v in meta.items():
        w("- **%s**: %s" % (k, v))
    w("")
    if notes:
        w("## Notes")
        w("")
        for n in notes:
            w("- " + n)
        w("")

    broker_sections(g, w)

    targets = OrderedDict((k[1], None) for k in g if k[0] == "produce")
    for target in targets:
        rows = [(k, v) for k, v in g.items() if k[0] == "produce" and k[1] == target]
        w("## Produce throughput against %s" % target)
        w("")
        w("| value size | compression | client | msgs/s | MB/s | CPU ns/msg | peak RSS KiB | ok runs |")
        w("|---|---|---|---:|---:|---:|---:|---:|")
        for (kind, tgt, client, size, codec), rs in rows:
            w("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
                size_label(size), codec, client, fmt(med(rs, "rate")), fmt(med(rs, "mbs"), 1),
                fmt(med(rs, "nsmsg")), fmt(med(rs, "rss")), sum(r["ok"] for r in rs), len(rs)))
        w("")
        # rill vs librdkafka on this target.
        pairs = []
        for (kind, tgt, client, size, codec), rs in rows:
            if client != "rill":
                continue
            anchor = g.get((kind, tgt, "librdkafka", size, codec))
            if anchor:
                pairs.append((size, codec, rs, anchor))
        if pairs:
            w("### rill / librdkafka on %s" % target)
            w("")
            w("| value size | compression | msgs/s ratio | bar | CPU ns/msg ratio (lower is better) "
              "| peak RSS ratio (lower is better) | meets the bar |")
            w("|---|---|---:|---:|---:|---:|---|")
            for size, codec, rs, anchor in pairs:
                rr = ratio(med(rs, "rate"), med(anchor, "rate"))
                cr = ratio(med(rs, "nsmsg"), med(anchor, "nsmsg"))
                mr = ratio(med(rs, "rss"), med(anchor, "rss"))
                need = CLIENT_BARS.get(size)
                meets = "—"
                if rr is not None and need is not None and cr is not None and mr is not None:
                    meets = "yes" if rr >= need and cr < 1 and mr < 1 else "no"
                w("| %s | %s | %s× | ≥ %s× | %s× | %s× | %s |" % (
                    size_label(size), codec, fmt(rr, 2), need if need else "—", fmt(cr, 2),
                    fmt(mr, 2), meets))
            w("")

    consume = [(k, v) for k, v in g.items() if k[0] == "consume"]
    if consume:
        w("## Consume throughput against rill-broker")
        w("")
        w("Both read the same topic from the beginning, every partition assigned (no group), "
          "the clock started at the first message.")
        w("")
        w("| value size | client | msgs/s | MB/s | CPU ns/msg | peak RSS KiB | ok runs |")
        w("|---|---|---:|---:|---:|---:|---:|")
        for (kind, tgt, client, size, codec), rs in consume:
            w("| %s | %s | %s | %s | %s | %s | %d/%d |" % (
                size_label(size), client, fmt(med(rs, "rate")), fmt(med(rs, "mbs"), 1),
                fmt(med(rs, "nsmsg")), fmt(med(rs, "rss")), sum(r["ok"] for r in rs), len(rs)))
        w("")
        pairs = [(k, rs, g.get((k[0], k[1], "librdkafka", k[3], k[4])))
                 for k, rs in consume if k[2] == "rill"]
        pairs = [p for p in pairs if p[2]]
        if pairs:
            w("### rill / librdkafka, consume")
            w("")
            w("| value size | msgs/s ratio | bar | CPU ns/msg ratio (bar: below 1) "
              "| peak RSS ratio | meets the bar |")
            w("|---|---:|---:|---:|---:|---|")
            for (kind, tgt, client, size, codec), rs, anchor in pairs:
                rr = ratio(med(rs, "rate"), med(anchor, "rate"))
                cr = ratio(med(rs, "nsmsg"), med(anchor, "nsmsg"))
                mr = ratio(med(rs, "rss"), med(anchor, "rss"))
                meets = "—"
                if rr is not None and cr is not None:
                    meets = "yes" if rr >= CONSUME_BAR and cr < 1 else "no"
                w("| %s | %s× | ≥ %s× | %s× | %s× | %s |" % (
                    size_label(size), fmt(rr, 2), CONSUME_BAR, fmt(cr, 2), fmt(mr, 2), meets))
            w("")

    # A text plot of the produce medians.
    for what in ("produce", "consume"):
        rows = [(k, med(v, "rate")) for k, v in g.items() if k[0] == what]
        vmax = max((v for _, v in rows if v), default=0)
        if not vmax:
            continue
        w("## Plot: %s msgs/s (median)" % what)
        w("")
        w("```")
        for (kind, tgt, client, size, codec), v in rows:
            label = "%-11s %-10s %-6s %-4s" % (tgt, client, size_label(size), codec)
            w("%s %12s %s" % (label, fmt(v), bar(v, vmax)))
        w("```")
        w("")

    w("## Exact commands")
    w("")
    w("```")
    for c in commands:
        w(c)
    w("```")
    w("")
    failed = [r for r in runs if not r["ok"]]
    if failed:
        w("## Failed runs (left out of the medians)")
        w("")
        w("```")
        for r in failed:
            w("%s %s %s %s rep=%s rc=%s: %s" % (r.get("target"), r.get("client"), r.get("codec"),
                                                size_label(int(float(r.get("size", 0)))),
                                                r.get("rep"), r.get("rc"), r["raw"][:300]))
        w("```")
        w("")
    w("## Raw result lines")
    w("")
    w("```")
    for r in runs:
        load = " load=%s" % r["load"] if "load" in r else ""
        w("%s %s %s %s rep=%s%s: %s" % (r.get("target"), r.get("client"), r.get("codec"),
                                        size_label(int(float(r.get("size", 0)))), r.get("rep"),
                                        load, r["raw"]))
    w("```")
    return "\n".join(out) + "\n"


def read_lines(path):
    if not path:
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta")
    ap.add_argument("--commands")
    ap.add_argument("--notes")
    ap.add_argument("--out", default="-")
    a = ap.parse_args(argv)
    meta = OrderedDict()
    for l in read_lines(a.meta):
        k, _, v = l.partition(":")
        meta[k.strip()] = v.strip()
    commands = list(OrderedDict.fromkeys(read_lines(a.commands)))
    text = render(parse_runs(read_lines(a.raw)), meta, commands, read_lines(a.notes))
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
