"""conftest -- pytest fixtures for the interop tests (tests/interop and pending/).

Fixtures:
  mock_cluster   factory: mock_cluster(brokers=1) -> helpers.MockCluster,
                 every one stopped at teardown
  rill_broker    factory: rill_broker(*extra_args, data_dir=None) -> helpers.RillBroker
                 on 127.0.0.1:0 with a fresh data dir, stopped at teardown
  rill_cli       helpers.run_cli (fails clearly if build/rill is missing)
  topic_name     a unique topic name per test

Every test has a time limit (SIGALRM): 60 s unless marked
@pytest.mark.timeout(SECONDS), so no test can hang the suite.
"""

import os
import re
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helpers  # noqa: E402

DEFAULT_TEST_TIMEOUT = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (default 60 s)")


class TimeLimitExceeded(BaseException):
    """Raised inside a test that outlived its time limit (BaseException so that
    `except Exception` in a test cannot swallow it)."""


@pytest.fixture(autouse=True)
def _time_limit(request):
    marker = request.node.get_closest_marker("timeout")
    seconds = int(marker.args[0]) if marker and marker.args else DEFAULT_TEST_TIMEOUT

    def on_alarm(signum, frame):
        raise TimeLimitExceeded("test exceeded its %d s time limit" % seconds)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def mock_cluster():
    started = []

    def start(brokers=1, **kw):
        mc = helpers.MockCluster(brokers=brokers, **kw)
        started.append(mc)
        return mc

    yield start
    # A launcher that does not exit cleanly (a crash, a sanitizer report in the
    # ASan build) fails the test that used it.
    problems = []
    for mc in started:
        rc = mc.close()
        if rc != 0 or "Sanitizer" in mc.stderr_text():
            problems.append("mockcluster exited %s; stderr:\n%s" % (rc, mc.stderr_text()))
    if problems:
        raise helpers.HarnessError("\n".join(problems))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with what its rill-broker processes printed, and says
    when one of them died by itself (a crash must not pass for a client's fault)."""
    outcome = yield
    rep = outcome.get_result()
    brokers = getattr(item, "_rill_brokers", None)
    if not brokers or rep.passed or rep.when == "teardown":
        return
    for i, b in enumerate(brokers):
        rc = b.proc.poll() if b.proc is not None else None
        state = "running" if rc is None else ("exited %s%s" % (
            rc, "" if b.stopped_by_test else " BY ITSELF"))
        rep.sections.append(("rill-broker %d (%s) output, last 60 lines" % (i, state),
                             "\n".join(list(b._out.lines)[-60:])))


@pytest.fixture
def rill_broker(tmp_path, request):
    started = []
    request.node._rill_brokers = started

    def start(*extra_args, data_dir=None, **kw):
        d = data_dir or str(tmp_path / ("broker%d" % len(started)))
        b = helpers.RillBroker(d, extra_args=extra_args, **kw)
        started.append(b)
        return b

    yield start
    # A broker that died by itself, or that a sanitizer complained about, fails the test
    # that used it even when the clients coped.
    problems = []
    for b in started:
        rc = b.proc.poll() if b.proc is not None else None
        if rc is not None and not b.stopped_by_test:
            problems.append("rill-broker exited %s by itself" % rc)
        b.close()
        if b._out is not None:
            b._out.thread.join(timeout=2)
            out = "\n".join(b._out.lines)
            if "Sanitizer" in out or "runtime error:" in out:
                problems.append("rill-broker sanitizer report:\n%s" % out[-4000:])
    if problems:
        raise helpers.HarnessError("\n".join(problems))


@pytest.fixture
def rill_cli():
    helpers.require_binary(helpers.rill_cli_path(), "rill CLI")
    return helpers.run_cli


@pytest.fixture
def topic_name(request):
    """A topic name unique to the test (Kafka's legal characters only)."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", request.node.name)[:150]
    return "t_%s_%d" % (base, os.getpid())
