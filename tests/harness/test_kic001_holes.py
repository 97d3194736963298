"""The kic-001 holes of issue 13: the scenarios are in the library with a ``proof``, and the
machinery they need (a second DRC, ``on_drc``, the ``mirrored`` check) works.

- a cascade whose second mirror delete fails keeps only relations with their mirrors;
- one mirror POST per link, none for a refused link (400 body, narrow client, no token);
- a DRC 4xx on the mirror POST, or no answer before the KIC's timeout: the relation exists
  only with its mirror;
- deleting a relation whose mirror is already gone from the DRC succeeds;
- with documents of two DRCs each mirror lands in its document's DRC; without a second DRC
  that scenario is skipped, and the run is never CONFORMANT.

That each scenario passes on the reference KIC is tests/harness/test_library.py's
whole-library run; that it fails on the defect its ``proof`` names (FAILED, a must-level check
of a step under test) is tests/harness/test_broken_kics.py's, the one home of proofs.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import yamlload
from harness.config import RunConfig
from harness.environment import embedded_environment, known_defects
from harness.results import CaseResult, Level, Outcome, RunResult
from harness.run import run
from harness.scenarios import Scenario, load_library
from zgw.contract import scenarios_path

pytestmark = pytest.mark.slow

#: The scenarios of issue 13 item 4, by the hole they close.
HOLES = [
    "kic-001-cascade-partial-failure",
    "kic-001-one-mirror-post-per-link",
    "kic-001-refused-link-400-sends-nothing",
    "kic-001-refused-link-narrow-client-sends-nothing",
    "kic-001-refused-link-no-token-sends-nothing",
    "kic-001-drc-refuses-mirror-4xx",
    "kic-001-drc-timeout-on-create",
    "kic-001-delete-mirror-already-gone",
    "kic-001-mirror-in-each-documents-drc",
]
TWO_DRCS = "kic-001-mirror-in-each-documents-drc"


def proof_of(scenario_id: str) -> list[str]:
    """The defects a scenario's ``proof`` key names (read from its file: the loader's model
    of the key is another change's)."""
    document = yamlload.load(
        (Path(scenarios_path()) / "kic-001" / f"{scenario_id}.yaml").read_text(encoding="utf-8")
    )
    proof: dict[str, Any] = document.get("proof") or {}
    return [proof["defect"]] if "defect" in proof else list(proof.get("defects") or [])


PROOFS = [(scenario_id, defect) for scenario_id in HOLES for defect in proof_of(scenario_id)]


@pytest.fixture(scope="module")
def library() -> dict[str, Scenario]:
    return {s.id: s for s in load_library()}


@pytest.fixture(scope="module")
def correct_kic() -> Iterator[RunConfig]:
    with embedded_environment(fuzz_examples=0) as config:
        yield config


def _run(config: RunConfig, scenario: Scenario) -> CaseResult:
    # Without the pre-flight: a defect may be one it would stop before any scenario runs.
    result = run(config, scenarios=[scenario], preflight=False)
    assert result.aborted is None
    (case,) = result.cases
    return case


def _explain(case: CaseResult) -> object:
    failed = [
        f"{k.name} [{k.level.value}, under test {k.under_test}]: {k.message}"
        for k in case.checks
        if not k.passed
    ]
    return (case.outcome.value, case.error or failed)


def test_every_hole_has_a_proof_the_reference_kic_knows(library) -> None:
    assert [i for i in HOLES if i not in library] == []
    assert all(proof_of(i) for i in HOLES), "each hole scenario names a defect it fails on"
    assert {d for _, d in PROOFS} <= known_defects()


def test_without_a_second_drc_the_two_drc_scenario_is_skipped_and_the_run_incomplete(
    library, correct_kic
) -> None:
    one_drc = dataclasses.replace(correct_kic, second_drc_url=None)
    result: RunResult = run(one_drc, scenarios=[library[TWO_DRCS], library[HOLES[1]]])
    cases = {c.id: c for c in result.cases}
    assert cases[TWO_DRCS].outcome is Outcome.SKIPPED
    assert "--second-drc-url" in str(cases[TWO_DRCS].skip_reason)
    assert cases[HOLES[1]].outcome is Outcome.PASSED
    assert result.verdict_state == "NO FAILURES"
    assert "1 skipped" in result.incomplete_reasons


WHERE_IS_THE_MIRROR = """\
id: where-is-the-mirror
title: The mirror of a document of the second DRC, looked for in one DRC
rule: kic-001
requires: [drc, second-drc]
steps:
  - drc: create_document
    on_drc: second
    save: {doc: $.url}
  - call: verzoek_create
    body: {bronorganisatie: "000000000", status: ontvangen}
    expect: {status: 201}
    save: {verzoek: $.url}
  - call: verzoekinformatieobject_create
    body: {verzoek: "{verzoek}", informatieobject: "{doc}"}
    expect: {status: 201}
  - drc_expect:
      mirrors: {contains: {object: "{verzoek}", informatieobject: "{doc}"}}
    on_drc: %s
    under_test: true
finally:
  - call: verzoek_delete
    path: {uuid: "{verzoek|uuid}"}
"""


@pytest.mark.parametrize(
    ("which", "outcome"), [("second", Outcome.PASSED), ("first", Outcome.FAILED)]
)
def test_on_drc_chooses_the_drc_a_step_looks_at(which, outcome, scenario_dir, correct_kic) -> None:
    """``on_drc`` routes a step to the DRC it names: the mirror of a second-DRC document is
    found there, and not in the first (so the two-DRC scenario's checks look where they say)."""
    [scenario] = load_library([scenario_dir(where=WHERE_IS_THE_MIRROR % which)])
    case = _run(correct_kic, scenario)
    assert case.outcome is outcome, _explain(case)


# -- the second DRC from the CLI and the pytest plugin, for a KIC that knows both


@contextlib.contextmanager
def kic_for_two_drcs(tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    """A reference KIC with credentials for two DRCs on free ports (not started yet): its
    API root and the two ports."""
    from harness.environment import DRC_CALLBACK, KIC_TO_DRC, MAIN_CLIENT
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig
    from zgw.jwt import Client
    from zgw.serving import free_port, serve_in_thread

    first, second = free_port(), free_port()
    assert first != second
    config = KicConfig(
        db_path=str(tmp_path / "kic.sqlite3"),
        clients={
            MAIN_CLIENT[0]: Client(*MAIN_CLIENT, ALL_SCOPES),
            DRC_CALLBACK[0]: Client(*DRC_CALLBACK, frozenset({"klanten.lezen"})),
        },
        drc_credentials=[
            DrcCredential(f"http://127.0.0.1:{port}/", *KIC_TO_DRC) for port in (first, second)
        ],
    )
    with serve_in_thread(create_app(config)) as kic:
        yield f"{kic.url}/api/v1", first, second


def test_the_cli_starts_a_second_drc_of_second_drc_port(tmp_path: Path, capsys) -> None:
    from harness.cli import main
    from harness.environment import DRC_CALLBACK, KIC_TO_DRC, MAIN_CLIENT

    with kic_for_two_drcs(tmp_path) as (target, first, second):
        code = main(
            [
                *("run", "--target", target, "--client-id", MAIN_CLIENT[0]),
                *("--secret", MAIN_CLIENT[1], "--id", TWO_DRCS, "--no-fuzz"),
                *("--drc-host", "127.0.0.1", "--drc-port", str(first)),
                *("--second-drc-port", str(second), "--drc-client", ":".join(KIC_TO_DRC)),
                *("--drc-callback-client", ":".join(DRC_CALLBACK)),
            ]
        )
    out = capsys.readouterr().out
    assert code == 3, out  # a selection, no narrow client: never more than NO FAILURES
    assert f"second mock DRC listening on http://127.0.0.1:{second}" in out
    assert "1 passed" in out or "passed: 1" in out.lower(), out


def test_the_cli_refuses_a_second_drc_port_without_the_first(capsys) -> None:
    from harness.cli import main

    argv = ["run", "--target", "http://x/api/v1", "--client-id", "a", "--secret", "b"]
    assert main([*argv, "--second-drc-port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--second-drc-port starts a second mock DRC next to the first" in err


@pytest.fixture()
def child_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child pytest loads only our plugin (``-p``), not the entry point's copy too."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.mark.usefixtures("child_pytest")
def test_the_plugin_starts_a_second_drc_of_kic_second_drc_port(pytester, tmp_path) -> None:
    from harness.environment import DRC_CALLBACK, KIC_TO_DRC, MAIN_CLIENT

    with kic_for_two_drcs(tmp_path) as (target, first, second):
        result = pytester.runpytest_subprocess(
            *("--kic-url", target, "--kic-client-id", MAIN_CLIENT[0]),
            *("--kic-secret", MAIN_CLIENT[1], "--kic-id", TWO_DRCS),
            *("--kic-drc-host", "127.0.0.1", "--kic-drc-port", str(first)),
            *("--kic-second-drc-port", str(second), "--kic-drc-client", ":".join(KIC_TO_DRC)),
            *("--kic-drc-callback-client", ":".join(DRC_CALLBACK), "-p", "harness.pytest_plugin"),
        )
    result.assert_outcomes(passed=1)


@pytest.mark.usefixtures("child_pytest")
def test_the_plugin_skips_the_two_drc_scenario_without_a_second_drc(pytester, tmp_path) -> None:
    from harness.environment import DRC_CALLBACK, KIC_TO_DRC, MAIN_CLIENT

    with kic_for_two_drcs(tmp_path) as (target, first, _):
        result = pytester.runpytest_subprocess(
            *("--kic-url", target, "--kic-client-id", MAIN_CLIENT[0]),
            *("--kic-secret", MAIN_CLIENT[1], "--kic-id", TWO_DRCS),
            *("--kic-drc-host", "127.0.0.1", "--kic-drc-port", str(first)),
            *("--kic-drc-client", ":".join(KIC_TO_DRC)),
            *("--kic-drc-callback-client", ":".join(DRC_CALLBACK), "-p", "harness.pytest_plugin"),
            "-rs",
        )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*NO FAILURES (incomplete:*1 skipped*", "*--kic-second-drc-url*"])


# -- the ``mirrored`` check on its own


class _Drc:
    """What ``DrcView`` asks of a DRC for ``mirrored``: its mirrors."""

    def __init__(self, *documents: str, verzoek: str = "http://kic/verzoeken/1") -> None:
        self._mirrors = [{"object": verzoek, "informatieobject": d} for d in documents]

    def mirrors(self) -> list[dict[str, Any]]:
        return self._mirrors


def _mirrored(listed: list[str] | None, first: _Drc, *others: _Drc) -> list[str]:
    from harness import checks

    def relations(verzoek: str) -> tuple[list[Any] | None, str | None]:
        if listed is None:
            return None, "the KIC answered 500"
        return [{"verzoek": verzoek, "informatieobject": d} for d in listed], None

    view = checks.DrcView(first, None, others, relations)  # type: ignore[arg-type]
    result = checks.drc_mirrored(view, {"verzoek": "http://kic/verzoeken/1"}, Level.MUST)
    return [] if result.passed else result.message.splitlines()


def test_mirrored_holds_when_relations_and_mirrors_agree_across_drcs() -> None:
    assert _mirrored(["a", "b"], _Drc("a"), _Drc("b")) == []
    assert _mirrored([], _Drc(), _Drc("x", verzoek="http://kic/verzoeken/2")) == []


@pytest.mark.parametrize(
    ("listed", "drcs", "problem"),
    [
        (["a", "b"], [_Drc("a")], "have no DRC mirror"),
        (["a"], [_Drc("a"), _Drc("b")], "have no relation in the KIC"),
        (["a"], [_Drc("a"), _Drc("a")], "more than one DRC mirror"),
        (None, [_Drc("a")], "the KIC answered 500"),
    ],
)
def test_mirrored_names_what_disagrees(listed, drcs, problem) -> None:
    assert any(problem in line for line in _mirrored(listed, *drcs)), _mirrored(listed, *drcs)


def test_mirrored_names_the_documents_as_json() -> None:
    [line] = _mirrored(["a", "b"], _Drc("a"))
    assert line.endswith('have no DRC mirror: ["b"]'), line  # JSON, not ['b']
