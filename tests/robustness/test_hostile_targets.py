"""The harness against hostile targets (issue 6, point 4).

A socket-level double KIC (``hostile_kic.HostileKic``) misbehaves in 16 ways: hangs, resets,
closes without answering, drips the body or the headers, sends 10 MB, invalid JSON, the wrong
Content-Type, duplicate or conflicting headers, an empty 201, an HTML error page, a 5xx storm,
a garbage status line, redirects to another host, and a TLS-less redirect loop. For each, a
small scenario selection is run through the runner API with a 2 s timeout: the verdict is NOT
CONFORMANT (exit code 1), every case fails with a message that names the misbehaviour, the
run ends within a bound derived from the timeout, and the token never reaches the other host
(a pytest-httpserver that records every request). These runs skip the pre-flight, which would
stop at the first hostile answer; one CLI run shows it does (exit code 2, end to end).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_kic import HostileKic
from pytest_httpserver import HTTPServer

from harness.config import RunConfig, Selection
from harness.results import RunResult
from harness.run import run

TIMEOUT = 2.0
#: create (POST), list (GET collection) and read (GET item), with their set-up and clean-up.
SCENARIOS = ["klant-create-natuurlijk-persoon", "klant-list", "klant-read"]
#: Every case of a run must end within this: a few requests of TIMEOUT each, in parallel.
TIME_BOUND = 4 * TIMEOUT + 3.0

#: misbehaviour -> words one of which the failure must contain (lower case).
HINTS: dict[str, tuple[str, ...]] = {
    "hang": ("timeout",),
    "reset": ("reset",),
    "close-without-answer": ("disconnect", "without sending"),
    "slow-drip-body": ("timeout",),
    "slow-drip-headers": ("timeout",),
    "huge-body": ("larger than",),
    "invalid-json": ("not valid json", "not json"),
    "wrong-content-type": ("content-type",),
    "redirect-other-host": ("another host",),
    "5xx-storm": ("server error",),
    "duplicate-headers": ("content-type",),
    "conflicting-content-length": ("content-length",),
    "empty-201": ("body: missing", "not json"),
    "html-error-page": ("server error", "json"),
    "tls-less-redirect-loop": ("redirect",),
    "garbage-status-line": ("status line",),
}
assert set(HINTS) == set(HostileKic.MODES)


@pytest.fixture
def other_host() -> Iterator[HTTPServer]:
    """The "other host" redirects point at: records every request, answers 200 to anything."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request(re.compile(".*")).respond_with_json({"followed": True})
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def other_host_url(server: HTTPServer) -> str:
    # A different host name on loopback: "localhost" is not the target's "127.0.0.1".
    return f"http://localhost:{server.port}"


def failure_text(result: RunResult) -> str:
    parts = []
    for case in result.cases:
        parts.append(case.error or "")
        parts += [f"{c.message} {c.actual}" for c in case.failed_checks()]
        parts += [e.error or "" for e in case.exchanges]
    return " | ".join(parts).lower()


def run_against(kic: HostileKic) -> tuple[RunResult, float]:
    config = RunConfig(
        target=f"{kic.url}/api/v1",
        client_id="hostile-test",
        secret="hostile-test-secret",
        timeout=TIMEOUT,
        fuzz_examples=0,
        workers=len(SCENARIOS),
        selection=Selection(ids=SCENARIOS),
    )
    started = time.monotonic()
    # The pre-flight would stop at the first hostile answer (exit 2); here the scenarios
    # themselves must meet every misbehaviour.
    result = run(config, preflight=False)
    return result, time.monotonic() - started


@pytest.mark.parametrize("mode", HostileKic.MODES)
def test_harness_fails_a_hostile_target_clearly_and_in_time(
    mode: str, other_host: HTTPServer
) -> None:
    with HostileKic(mode, other_host_url(other_host)) as kic:
        result, elapsed = run_against(kic)
        requests = list(kic.requests)
    outcomes = {case.id: case.outcome for case in result.cases}
    assert result.aborted is None, result.aborted
    assert result.exit_code == 1 and result.verdict == "NOT CONFORMANT"
    assert sorted(outcomes) == sorted(SCENARIOS)
    # Failed, errored, or precondition failed (a set-up create broke first): all count against.
    assert all(outcome.counts_against for outcome in outcomes.values()), outcomes
    text = failure_text(result)
    assert any(hint in text for hint in HINTS[mode]), f"no {HINTS[mode]} in: {text[:600]}"
    assert any(r.header("authorization") for r in requests), "the target itself got no token"
    assert not [r for r in other_host.log if r[0].headers.get("Authorization")]
    assert not other_host.log, "the harness followed a redirect to another host"
    assert elapsed <= TIME_BOUND, f"{mode}: the run took {elapsed:.1f} s (bound {TIME_BOUND} s)"


def test_cli_stops_a_hostile_target_in_the_pre_flight_and_keeps_the_token_home(
    tmp_path: Path, other_host: HTTPServer
) -> None:
    report = tmp_path / "report.json"
    with HostileKic("redirect-other-host", other_host_url(other_host)) as kic:
        args = [
            sys.executable, "-m", "harness.cli", "run", "--target", f"{kic.url}/api/v1",
            "--client-id", "hostile-test", "--secret", "hostile-test-secret", "--no-fuzz",
            "--timeout", str(TIMEOUT), "--json", str(report),
            *[arg for scenario in SCENARIOS for arg in ("--id", scenario)],
        ]  # fmt: skip
        started = time.monotonic()
        completed = subprocess.run(args, capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - started
    # The pre-flight's authenticated list meets the redirect: exit 2, naming it.
    assert completed.returncode == 2, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "a redirect to http://localhost:" in completed.stderr
    data = json.loads(report.read_text())
    assert data["verdict"] == "COULD NOT RUN"
    assert "hostile-test-secret" not in report.read_text()
    assert not other_host.log, "the harness followed a redirect to another host"
    assert elapsed < 60


def test_a_target_that_hangs_on_everything_is_reported_unreachable_in_time() -> None:
    """The reachability probe also hangs: exit 2 (could not run), within the timeout."""
    with HostileKic("hang") as kic:
        kic_root_hangs = RunConfig(
            target=f"{kic.url}/hang-everything",  # the double answers only /api/v1 normally
            client_id="c",
            secret="s",
            timeout=TIMEOUT,
            fuzz_examples=0,
            selection=Selection(ids=SCENARIOS),
        )
        started = time.monotonic()
        result = run(kic_root_hangs)
        elapsed = time.monotonic() - started
    assert result.exit_code == 2 and result.aborted and "timeout" in result.aborted.lower()
    assert elapsed <= TIMEOUT + 3.0
