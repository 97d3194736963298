"""Waiting for a condition in tests that watch something happen in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], limit: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds (True) or ``limit`` seconds pass (False)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
