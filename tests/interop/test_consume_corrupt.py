"""test_consume_corrupt -- a batch that fails its CRC reaches librill's consumer as an error
event, is never delivered, and is never skipped: the partition stops at the bad batch until the
application seeks.

The bad batch is made for real: messages are produced to rill-broker, the broker is stopped
cleanly, one byte inside the second batch's records is flipped in the segment file, and the
broker is started again.  A clean shutdown means no recovery scan, so the broker serves the
damaged bytes as they are (with sendfile) and only the client's CRC check can catch them."""

import glob
import os
import subprocess

import helpers


def produce_batches(bootstrap, topic):
    """Two batches of 5 messages each: the CLI sends each stdin burst after a flush."""
    for b in range(2):
        lines = b"".join(b"batch%d-msg%d\n" % (b, i) for i in range(5))
        r = helpers.run_cli(["produce", "-b", bootstrap, "-t", topic, "-p", "0",
                             "-X", "linger.ms=50"], input=lines, timeout=30)
        assert r.returncode == 0, r.stderr.decode(errors="replace")


def test_crc_failure_is_an_error_event_never_delivered_nor_skipped(rill_broker):
    b = rill_broker()
    r = helpers.run_cli(["topic", "create", "crc", "-p", "1", "-b", b.bootstrap], timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    produce_batches(b.bootstrap, "crc")
    b.stop()

    segs = sorted(glob.glob(os.path.join(b.data_dir, "crc-0", "*.log")))
    assert segs, os.listdir(b.data_dir)
    data = bytearray(open(segs[0], "rb").read())
    # The second batch starts after the first: 12-byte prefix + batchLength of batch 1.
    first_len = 12 + int.from_bytes(data[8:12], "big")
    assert len(data) > first_len + 70, len(data)
    at = first_len + 61 + 5  # inside the second batch's first record, past the header
    data[at] ^= 0xFF
    open(segs[0], "wb").write(bytes(data))

    b.restart()
    probe = helpers.build_path("tests", "consume_probe")
    p = subprocess.run([probe, b.bootstrap, "crc", "10", "-p", "0", "-i", "4"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    msgs = [line.split() for line in out.splitlines() if line.startswith("MSG ")]
    # The first batch is delivered, offsets 0-4, and nothing after it.
    assert [int(m[2]) for m in msgs] == [0, 1, 2, 3, 4], out + err
    assert [bytes.fromhex(m[5]) for m in msgs] == [b"batch0-msg%d" % i for i in range(5)]
    # The second batch is an error event naming the CRC, not a delivery and not a silent skip.
    assert "ERR CORRUPT_MESSAGE" in err and "CRC" in err, err
    assert "DONE 5" in out
    assert p.returncode == 1  # did not get 10
