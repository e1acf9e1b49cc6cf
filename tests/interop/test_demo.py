"""test_demo -- `make demo`'s script end to end: a throw-away rill-broker on a free port, the
example producer defines topic 'test' and sends three messages, the example consumer reads them
back as a member of a consumer group, and the broker stops cleanly.  The script's output is what
a new user sees first, so it is checked line by line here."""

import os
import subprocess

import helpers


def test_demo_script_runs_the_four_steps():
    script = os.path.join(helpers.source_dir(), "scripts", "demo.sh")
    env = dict(os.environ)
    r = subprocess.run(["sh", script], cwd=helpers.source_dir(), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, out + err
    assert "rill-broker is listening on 127.0.0.1:" in out
    assert "created topic test" in out
    for i in range(3):
        assert "delivered to test [0] at offset %d" % i in out, out
    assert "sent 3 message(s), 0 failed" in out
    assert "assigned test [0]" in out
    for i, text in enumerate(["message", "hello from rill", "the third message"]):
        assert "test [0] offset %d: %s" % (i, text) in out, out
    assert "read 3 message(s)" in out
    assert "rill-broker stopped cleanly" in out
