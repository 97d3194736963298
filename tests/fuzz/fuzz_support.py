"""Helpers of the fuzz-phase tests: fuzz runs against embedded or wrapped reference KICs."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from harness.config import RunConfig, Selection
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
        result = RunResult(target=config.target, started_at=_now())
        run_fuzz(config, result)
        result.settings["secret"] = config.secret  # for the tests' leak checks only
        return result


LOCAL_CLIENT = ("kic-conformance", "a-local-test-secret-0123456789abcdef")


@contextlib.contextmanager
def wrapped_kic(db_path: str, wrap: Callable[[Any], Any]) -> Iterator[str]:
    """Serve the reference KIC (no DRC) behind the WSGI middleware ``wrap``; yield its API root.

    A cheap broken variant for the klanten operations: the middleware changes what the
    correct KIC answers (drops a header, stalls, swaps the body) on the way out.
    """
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, KicConfig
    from zgw.jwt import Client
    from zgw.serving import serve_in_thread

    clients = {LOCAL_CLIENT[0]: Client(*LOCAL_CLIENT, ALL_SCOPES)}
    app = create_app(KicConfig(db_path=db_path, clients=clients))
    with serve_in_thread(wrap(app)) as server:
        yield f"{server.url}/api/v1"


def fuzz_target(
    target: str, operations: Iterable[str], examples: int, **settings: Any
) -> RunResult:
    """Fuzz ``operations`` of ``target`` with the local client's credentials."""
    config = RunConfig(
        target=target,
        client_id=LOCAL_CLIENT[0],
        secret=LOCAL_CLIENT[1],
        fuzz_examples=examples,
        selection=Selection(operations=list(operations)),
        **settings,
    )
    result = RunResult(target=config.target, started_at="now")
    run_fuzz(config, result)
    return result


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()
