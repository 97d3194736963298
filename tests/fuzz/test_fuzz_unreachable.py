"""Targets that do not answer: errors (never passes) when gone, findings when slow."""

from __future__ import annotations

import re
import threading
import time

from fuzz_support import LOCAL_CLIENT, dripping_target, fuzz_target, wrapped_kic

from harness.config import RunConfig, Selection
from harness.fuzz import run_fuzz
from harness.results import Outcome, RunResult
from zgw.serving import free_port


def test_an_unreachable_target_gives_errors_not_passes() -> None:
    config = RunConfig(
        target=f"http://127.0.0.1:{free_port()}/api/v1",
        client_id="kic-conformance",
        secret="not-used-by-an-unreachable-target-0123456789",
        fuzz_examples=3,
        fuzz_seed=11,
        timeout=2.0,
    )
    result = RunResult(target=config.target, started_at="now")
    run_fuzz(config, result)
    assert result.fuzz_seed == 11
    assert len(result.cases) == 38
    assert {c.outcome for c in result.cases} == {Outcome.ERROR}
    first, *rest = result.cases
    assert "did not answer" in (first.error or "")
    assert all("stopped answering" in (c.error or "") for c in rest)
    assert not result.conformant


def test_a_request_without_answer_in_time_is_a_finding_and_the_phase_goes_on(
    tmp_path,
) -> None:
    """A KIC that never answers PATCH: answers_in_time fails there; reads are still fuzzed."""

    def stalling(app):  # type: ignore[no-untyped-def]
        def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
            if environ["REQUEST_METHOD"] == "PATCH":
                threading.Event().wait(1.5)  # well past the run's timeout of 0.3 s
            return app(environ, start_response)

        return wrapped

    with wrapped_kic(str(tmp_path / "kic.db"), stalling) as target:
        result = fuzz_target(target, ["klant_partial_update", "klant_read"], 2, timeout=0.3)
    cases = {c.operations[0]: c for c in result.cases}
    patch, read = cases["klant_partial_update"], cases["klant_read"]
    assert patch.outcome is Outcome.FAILED and patch.error is None
    assert [c.name for c in patch.failed_checks()] == ["answers_in_time"]
    exchange = patch.exchanges[patch.failed_checks()[0].exchange_index]
    assert exchange.method == "PATCH" and exchange.error and exchange.status is None
    assert patch.reproduce and "curl " in patch.reproduce and "-X PATCH" in patch.reproduce
    assert read.outcome is Outcome.PASSED


def test_headers_dripped_a_byte_at_a_time_time_out_by_the_run_s_timeout() -> None:
    """Each byte arrives well within any per-read timeout; the deadline still ends every
    request, the set-up's and the fuzzed ones, after about ``timeout`` seconds."""
    limit = 0.5
    with dripping_target() as target:
        started = time.monotonic()
        result = fuzz_target(f"{target.url}/api/v1", ["klant_read"], 1, timeout=limit)
        elapsed = time.monotonic() - started
        requests = list(target.requests)
    (case,) = result.cases
    assert case.error is None, case.error  # a slow answer is a finding, not a gone target
    assert [c.name for c in case.failed_checks()] == ["answers_in_time"]
    exchange = case.exchanges[case.failed_checks()[0].exchange_index]
    assert exchange.method == "GET" and exchange.status is None
    assert exchange.error and f"no complete response within {limit:g}s" in exchange.error
    gave_up = float(re.search(r"gave up after ([\d.]+)s", exchange.error).group(1))
    assert gave_up <= limit + 1.0, exchange.error
    fuzzed = [r for r in requests if r.startswith("GET /api/v1/klanten/")]
    assert len(fuzzed) == 2, requests  # one valid and one invalid example, each timed out
    # Unanswered requests count as sent: "2 of 2 requests", not "2 of 0".
    assert "(2 of 2 requests)" in case.failed_checks()[0].message, case.failed_checks()[0].message
    assert any(r.startswith("POST ") for r in requests), requests  # the pool's set-up
    # Every request, set-up included, ended by its deadline; 1 s of slack each and 3 s for
    # loading the spec. Without the deadline each would last until the target gives up.
    assert elapsed <= len(requests) * (limit + 1.0) + 3.0, (elapsed, requests)


def test_a_mock_drc_that_stops_answering_is_named_not_a_traceback(tmp_path) -> None:
    """The KIC answers, the DRC URL leads nowhere: the set-up fails clearly, once, by name."""
    with wrapped_kic(str(tmp_path / "kic.db"), lambda app: app) as target:
        config = RunConfig(
            target=target,
            client_id=LOCAL_CLIENT[0],
            secret=LOCAL_CLIENT[1],
            drc_url=f"http://127.0.0.1:{free_port()}",
            fuzz_examples=1,
            timeout=2.0,
            selection=Selection(operations=["verzoekinformatieobject_create", "klant_read"]),
        )
        result = RunResult(target=config.target, started_at="now")
        run_fuzz(config, result)
    assert {c.outcome for c in result.cases} == {Outcome.ERROR}, [c.error for c in result.cases]
    for case in result.cases:
        assert "the mock DRC did not answer a set-up request" in (case.error or ""), case.error
        assert "/_mock/" in case.error and "Traceback" not in case.error
