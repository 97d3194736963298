"""Fixtures of the fuzz-phase tests (helpers live in fuzz_support.py)."""

from __future__ import annotations

import pytest
from fuzz_support import fuzz_once


@pytest.fixture
def fuzz_run():  # type: ignore[no-untyped-def]
    """``fuzz_run(examples=..., defects=..., operations=..., seed=...) -> RunResult``."""
    return fuzz_once
