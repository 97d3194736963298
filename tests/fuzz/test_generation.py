"""The fuzz phase's seed alone decides its requests, whatever code the process has loaded.

Hypothesis draws, now and then, string constants found in the source of any module imported
from outside site-packages. That made the fuzz phase's requests depend on which modules an
earlier test had imported: in some full-suite runs the correct reference KIC was sent
``{"subjectType": "", "subject": ...}`` (refused only since then) and in others not. Each test
here imports a module full of distinctive constants half-way and compares what was drawn
before and after.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

from harness.fuzz import generation
from harness.fuzz.generation import generate
from harness.fuzz.runner import load_schema, operation_id, operations
from harness.spec import spec_file

SEED = 20240601
EXAMPLES = 100

Drawer = Callable[[st.SearchStrategy[Any]], list[str]]


#: Local modules the fixture writes, and string constants in each: Hypothesis reads at most
#: 1024 constants of a module, and in a full test run its pool already holds those of every
#: test module imported, so the new ones must be many to be drawn at all in the control test.
MODULES, PER_MODULE = 12, 1000


@pytest.fixture
def import_constants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], str]]:
    """Import, when called, fresh local modules full of string constants and return the
    prefix they share; new to Hypothesis, which keeps the constants of every module it has
    seen (and skips strings over 20 characters)."""
    token = uuid.uuid4().hex[:8]
    mark = f"kc-{token}-"
    names = [f"kic_local_constants_{token}_{m}" for m in range(MODULES)]
    for m, name in enumerate(names):
        constants = [f"{mark}{m:02}{n:03}" for n in range(PER_MODULE)]
        (tmp_path / f"{name}.py").write_text(f"VALUES = {constants!r}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    def load() -> str:
        for name in names:
            importlib.import_module(name)
        return mark

    yield load
    for name in names:
        sys.modules.pop(name, None)


def drawn_with_generate(strategy: st.SearchStrategy[Any]) -> list[str]:
    drawn: list[str] = []
    generate(strategy, EXAMPLES, SEED, lambda value, _draw: drawn.append(_text(value)))
    return drawn


def drawn_with_plain_hypothesis(strategy: st.SearchStrategy[Any]) -> list[str]:
    """The same draws as :func:`generate`, without its guard: the control."""
    drawn: list[str] = []

    @hypothesis_seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        drawn.append(_text(data.draw(strategy)))

    run()
    return drawn


def _text(value: Any) -> str:
    body = getattr(value, "body", value)  # a schemathesis Case: its body is what varies
    return json.dumps(body, sort_keys=True, default=repr)


STRINGS = st.lists(st.text(max_size=20), min_size=8, max_size=8)


def test_plain_hypothesis_draws_the_constants_of_newly_imported_modules(
    import_constants: Callable[[], str],
) -> None:
    """The hazard is real: without the guard the same seed draws other values."""
    before = drawn_with_plain_hypothesis(STRINGS)
    mark = import_constants()
    after = drawn_with_plain_hypothesis(STRINGS)
    assert before != after
    assert any(mark in text for text in after)


def test_generate_draws_the_same_values_whatever_was_imported(
    import_constants: Callable[[], str],
) -> None:
    before = drawn_with_generate(STRINGS)
    mark = import_constants()
    after = drawn_with_generate(STRINGS)
    assert before == after
    assert not any(mark in text for text in after)


def test_generate_draws_the_same_invalid_klanten_whatever_was_imported(
    import_constants: Callable[[], str],
) -> None:
    """The operation of the flaky finding, with schemathesis's strategy as the runner uses it."""
    schema = load_schema(spec_file(None))
    (klant_create,) = [op for op in operations(schema) if operation_id(op) == "klant_create"]
    strategy = klant_create.as_strategy(GenerationMode.NEGATIVE)
    before = drawn_with_generate(strategy)
    import_constants()
    assert drawn_with_generate(strategy) == before


def test_the_guard_is_lifted_afterwards() -> None:
    """Hypothesis tests of a vendor's own, run in the same process after a fuzz phase, draw
    what they drew before it (the project's own modules are local code to Hypothesis here)."""
    before = drawn_with_plain_hypothesis(STRINGS)
    drawn_with_generate(STRINGS)
    assert drawn_with_plain_hypothesis(STRINGS) == before


def test_the_guard_works_with_the_installed_hypothesis() -> None:
    """If a Hypothesis upgrade renames the internals, this says so (the others would too)."""
    assert generation.guard_available()


@pytest.mark.parametrize(
    "stand_in",
    [
        None,  # no such module
        SimpleNamespace(),  # no _get_local_constants
        SimpleNamespace(_get_local_constants=lambda: None),  # no pool to copy the type of
        SimpleNamespace(_get_local_constants="not callable", _local_constants=set()),
        SimpleNamespace(_get_local_constants=lambda: None, _local_constants=set()),  # no cache
    ],
    ids=["no module", "no function", "no pool", "not callable", "no cache"],
)
def test_generation_still_works_without_the_internals(
    stand_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Private Hypothesis names may vanish or change: the guard then does what it can (at most
    swaps the function, always restored) and generation goes on. Hypothesis itself keeps its
    real module; the guard sees a stand-in."""
    monkeypatch.setattr(generation, "_providers", stand_in)
    before = getattr(stand_in, "_get_local_constants", None)
    assert len(drawn_with_generate(STRINGS)) == EXAMPLES
    assert getattr(stand_in, "_get_local_constants", None) is before
