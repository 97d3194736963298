"""harness.drc_control: a mock DRC that drips its answer cannot hold the harness past the timeout.

The target is a raw loopback server (tests/loopback.py), so the test controls every byte and its
timing; the bound on elapsed time is a generous upper limit, not a performance figure.
"""

from __future__ import annotations

import time

import pytest
from loopback import LoopbackServer, drip_headers, keep_alive

from harness.drc_control import DrcControl, DrcControlError

LIMIT = 1.0


def test_headers_dripped_one_byte_at_a_time_fail_the_call_by_the_timeout() -> None:
    server = LoopbackServer(drip_headers)
    drc = DrcControl(server.url, timeout=LIMIT)
    try:
        started = time.monotonic()
        with pytest.raises(DrcControlError, match=r"did not answer GET /_mock/faults within 1s"):
            drc.ping()
        elapsed = time.monotonic() - started
    finally:
        drc.close()
        server.stop()
    assert elapsed <= LIMIT + 1.0, f"took {elapsed:.1f} s with a {LIMIT} s timeout"


def test_an_expired_deadline_does_not_spill_into_the_next_call() -> None:
    """The deadline is per call: a timed-out call leaves none behind in the calling thread."""
    slow, good = LoopbackServer(drip_headers), LoopbackServer(keep_alive)
    stalled, answering = DrcControl(slow.url, timeout=LIMIT), DrcControl(good.url, timeout=LIMIT)
    try:
        with pytest.raises(DrcControlError):
            stalled.ping()
        assert [answering.state(), answering.state()] == [[], []]  # keep_alive answers "[]"
    finally:
        stalled.close()
        answering.close()
        slow.stop()
        good.stop()
    assert len(good.connections) == 1, "the keep-alive connection was not reused"
