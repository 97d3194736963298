"""Fixtures of the fuzz-phase tests: one fuzz run against an embedded (maybe broken) KIC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pytest

from harness.config import Selection
from harness.environment import embedded_environment
from harness.fuzz import run_fuzz
from harness.results import RunResult

FuzzRun = Callable[..., RunResult]


def fuzz_once(
    *,
    examples: int,
    defects: Iterable[str] = (),
    operations: Iterable[str] = (),
    seed: int | None = None,
) -> RunResult:
    """Start the reference KIC (with ``defects``) and the mock DRC, fuzz, return the result."""
    with embedded_environment(defects=frozenset(defects), fuzz_examples=examples) as config:
        config.selection = Selection(operations=list(operations))
        if seed is not None:
            config.fuzz_seed = seed
        result = RunResult(target=config.target, started_at=dt.datetime.now(dt.UTC).isoformat())
        run_fuzz(config, result)
        result.settings["secret"] = config.secret  # for the tests' leak checks only
        return result


@pytest.fixture
def fuzz_run() -> FuzzRun:
    return fuzz_once
