"""A target that does not answer: the fuzz phase ends quickly with errors, never a pass."""

from __future__ import annotations

from harness.config import RunConfig
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
