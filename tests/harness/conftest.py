"""Fixtures of the harness tests: a scenario folder builder and a runner context on a double."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.config import RunConfig
from harness.runner import RunContext
from harness.scenarios import Scenario, load_library

LIST_KLANTEN = """\
id: klanten-list
title: Listing klanten
rule: oas:klant_list
tags: [smoke]
steps:
  - call: klant_list
    expect: {status: 200}
"""


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario files (name -> YAML text) under a fresh folder; return the folder."""

    def make(**files: str) -> Path:
        folder = tmp_path / "scenarios"
        for name, text in files.items():
            path = folder / "klanten" / f"{name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return make


@pytest.fixture()
def list_scenario(scenario_dir: Callable[..., Path]) -> Scenario:
    [scenario] = load_library([scenario_dir(list=LIST_KLANTEN)])
    return scenario


@pytest.fixture()
def context_for() -> Iterator[Callable[..., RunContext]]:
    """A RunContext against a given API root (closed after the test)."""
    made: list[RunContext] = []

    def make(target: str, **overrides: object) -> RunContext:
        config = RunConfig(
            target=target,
            client_id="tester",
            secret="tester-secret-long-enough-for-hs256-keys",
            **overrides,
        )
        context = RunContext.create(config)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
