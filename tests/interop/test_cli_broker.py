"""test_cli_broker -- `rill topic create/delete` against rill-broker (moves to tests/interop once
build/rill-broker exists)."""

import helpers  # noqa: F401


def test_topic_create_and_delete_against_rill_broker(rill_broker, rill_cli):
    b = rill_broker()
    r = rill_cli(["topic", "create", "made", "-p", "3", "-r", "1", "-b", b.bootstrap], timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert helpers.partitions_of(b.bootstrap, "made") == [0, 1, 2]
    again = rill_cli(["topic", "create", "made", "-p", "3", "-b", b.bootstrap], timeout=30)
    assert again.returncode == 1 and b"TOPIC_ALREADY_EXISTS" in again.stderr.upper().replace(
        b" ", b"_")
    r = rill_cli(["topic", "delete", "made", "-b", b.bootstrap], timeout=30)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    gone = rill_cli(["topic", "delete", "made", "-b", b.bootstrap], timeout=30)
    assert gone.returncode == 1


