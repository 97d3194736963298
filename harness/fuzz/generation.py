"""Seeded case generation whose requests depend on the seed alone.

Hypothesis (6.131 and later) sometimes draws a string or number constant it finds in the source
of any module the process has imported from outside site-packages and the standard library. So
the same seed gave different requests in a ``kic-conformance`` run, a pytest-plugin run inside
a vendor's project, an editable and a wheel install, or a test suite that happened to import
other modules first: a finding could not be replayed from the seed in its report, and the
project's own fuzz test found a KIC defect in some full-suite runs and not in others. While the
fuzz phase draws its cases, :func:`generate` holds that pool of "local" constants empty;
Hypothesis's own built-in constants (edge cases such as ``""`` or ``"\\x00"``) stay in use.

Hypothesis offers no setting for this, so the guard swaps a private function of
``hypothesis.internal.conjecture.providers`` (``_get_local_constants``) and clears its
``CONSTANTS_CACHE``. Private names may change in any Hypothesis release: when they are absent
(or shaped differently) the guard does nothing and generation still works, only with the old
hazard (the seed alone may no longer decide the requests). ``tests/fuzz/test_generation.py``
fails if that happens with the Hypothesis the project pins.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

try:  # private Hypothesis internals; see the module docstring for what happens without them
    from hypothesis.internal.conjecture import providers as _providers
except ImportError:  # pragma: no cover - depends on the installed Hypothesis
    _providers = None

#: ``data.draw``: draws one more value inside the current example.
Draw = Callable[[st.SearchStrategy[Any]], Any]

_lock = threading.Lock()
_holders = 0
_collect_local_constants: Callable[[], Any] | None = None


def _empty_pool() -> Any | None:
    """An empty pool of Hypothesis's own type, or None when this Hypothesis has no pool to swap.

    Built from the pool Hypothesis holds (an empty instance of its type is what Hypothesis
    starts from too), so no second private import is needed.
    """
    if not callable(getattr(_providers, "_get_local_constants", None)):
        return None
    try:
        return type(_providers._local_constants)()
    except Exception:  # any other shape of the internals: no guard, no crash
        return None


def _clear_constants_cache() -> None:
    # Hypothesis caches, per kind of draw, which pool members are allowed; built from the other
    # pool, those choices would outlive the switch.
    cache = getattr(getattr(_providers, "CONSTANTS_CACHE", None), "cache", None)
    if callable(getattr(cache, "clear", None)):
        cache.clear()


def guard_available() -> bool:
    """Whether the installed Hypothesis has the private pool :func:`without_local_constants`
    switches off (if not, generation works but may depend on the process's own modules)."""
    return _empty_pool() is not None


@contextlib.contextmanager
def without_local_constants() -> Iterator[None]:
    """Within the block, Hypothesis draws no constants from the process's own modules.

    Process-wide (Hypothesis keeps the pool in a module global), so nested and concurrent
    blocks share one switch, restored when the last one ends. A Hypothesis without the pool
    (see the module docstring) leaves the block a no-op.
    """
    global _holders, _collect_local_constants
    with _lock:
        if _holders == 0:
            empty = _empty_pool()
            if empty is not None:
                _collect_local_constants = _providers._get_local_constants
                _providers._get_local_constants = lambda: empty
                _clear_constants_cache()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _collect_local_constants is not None:
                _providers._get_local_constants = _collect_local_constants
                _collect_local_constants = None
                _clear_constants_cache()


def generate(
    strategy: st.SearchStrategy[Any],
    examples: int,
    seed: int,
    each: Callable[[Any, Draw], None],
) -> None:
    """Draw ``examples`` values of ``strategy`` with ``seed``; call ``each(value, draw)`` on each.

    No shrinking, no example database, no deadline, no health checks: every example is one
    request, sent once. An exception raised by ``each`` ends the generation and propagates;
    :class:`hypothesis.errors.Unsatisfiable` means no example could be drawn.
    """

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        each(data.draw(strategy), data.draw)

    with without_local_constants():
        run()
