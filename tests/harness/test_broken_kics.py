"""Broken KICs are caught: each defect switch of the reference KIC makes the scenarios that target
it come out failed (warning for the should-level ETag), with the matching verdict, while the
same selection passes on the correct reference KIC (so the defect, not the scenario, is the
cause).

One embedded environment per defect; the correct environment is shared by every test of a
worker (it has the same, empty, defect set).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config import RunConfig
from harness.environment import embedded_environment
from harness.results import Outcome, RunResult
from harness.run import run
from harness.scenarios import Scenario, load_library

FAILED, WARNING = Outcome.FAILED, Outcome.WARNING

#: defect -> (selection: scenario ids run, ids expected to come out with the outcome, outcome).
#: The rest of a selection are controls: scenarios the defect does not touch, which must pass.
DEFECTS: dict[str, tuple[list[str], list[str], Outcome]] = {
    "mirror-skipped": (
        ["kic-001-create-mirrors", "kic-001-create-after-commit"],
        ["kic-001-create-mirrors", "kic-001-create-after-commit"],
        FAILED,
    ),
    "mirror-wrong-objecttype": (
        ["kic-001-mirror-objecttype-verzoek", "kic-001-create-mirrors"],
        ["kic-001-mirror-objecttype-verzoek", "kic-001-create-mirrors"],
        FAILED,
    ),
    "mirror-before-commit": (
        ["kic-001-create-after-commit"],
        ["kic-001-create-after-commit"],
        FAILED,
    ),
    "delete-mirror-skipped": (
        ["kic-001-delete-removes-mirror", "kic-001-cascade-verzoek-delete"],
        ["kic-001-delete-removes-mirror", "kic-001-cascade-verzoek-delete"],
        FAILED,
    ),
    "delete-wrong-mirror": (
        ["kic-001-delete-right-mirror", "kic-001-create-mirrors"],
        ["kic-001-delete-right-mirror"],
        FAILED,
    ),
    "delete-mirror-while-visible": (
        ["kic-001-delete-with-callback"],
        ["kic-001-delete-with-callback"],
        FAILED,
    ),
    "field-dropped": (
        ["verzoek-read", "verzoek-create", "klant-read"],
        ["verzoek-read", "verzoek-create"],
        FAILED,
    ),
    "wrong-type": (
        ["contactmoment-read", "contactmoment-create", "verzoek-read"],
        ["contactmoment-read", "contactmoment-create"],
        FAILED,
    ),
    # (verzoekproduct-create-product-url comes out precondition failed here, its set-up
    # verzoek_create failing: tests/harness/test_step_under_test.py)
    "create-status-200": (
        ["klant-create-subject-url", "verzoek-create", "contactmoment-create"],
        ["klant-create-subject-url", "verzoek-create", "contactmoment-create"],
        FAILED,
    ),
    "filter-ignored": (
        [
            "verzoekcontactmoment-filter-verzoek",
            "verzoekproduct-filter-product-code",
            "objectverzoek-filter-object",
            "verzoek-list",
        ],
        [
            "verzoekcontactmoment-filter-verzoek",
            "verzoekproduct-filter-product-code",
            "objectverzoek-filter-object",
        ],
        FAILED,
    ),
    "uniqueness-not-enforced": (
        ["verzoek-identificatie-unique-400", "verzoekcontactmoment-unique-400"],
        ["verzoek-identificatie-unique-400", "verzoekcontactmoment-unique-400"],
        FAILED,
    ),
    "etag-missing": (
        ["klant-etag-not-modified", "verzoek-etag-not-modified", "klant-read"],
        ["klant-etag-not-modified", "verzoek-etag-not-modified"],
        WARNING,
    ),
    "auth-not-checked": (
        ["auth-no-token-klant-list", "auth-invalid-token-klant-list", "auth-no-token-klant-create"],
        ["auth-no-token-klant-list", "auth-invalid-token-klant-list", "auth-no-token-klant-create"],
        FAILED,
    ),
    "scope-not-enforced": (
        [
            "auth-narrow-client-cannot-create-klant",
            "auth-narrow-client-cannot-update-verzoek",
            "auth-narrow-client-can-read",
        ],
        ["auth-narrow-client-cannot-create-klant", "auth-narrow-client-cannot-update-verzoek"],
        FAILED,
    ),
    "location-missing": (
        ["klant-create-natuurlijk-persoon", "verzoekcontactmoment-create", "klant-read"],
        ["klant-create-natuurlijk-persoon", "verzoekcontactmoment-create"],
        FAILED,
    ),
    "500-on-bad-input": (
        ["klant-create-malformed-json-400", "klant-create-without-subject-400"],
        ["klant-create-malformed-json-400", "klant-create-without-subject-400"],
        FAILED,
    ),
    "parse-error-fout": (
        ["http-malformed-json-is-a-validatiefout", "klant-create-malformed-json-400"],
        ["http-malformed-json-is-a-validatiefout"],
        WARNING,
    ),
    "validation-422": (
        ["verzoek-create-status-required-400", "contactmoment-create-without-medewerker-400"],
        ["verzoek-create-status-required-400", "contactmoment-create-without-medewerker-400"],
        FAILED,
    ),
    # -- must-level checks: invariants of every exchange, error semantics, semantics --
    "content-type-missing": (["klant-read", "klant-list"], ["klant-read"], FAILED),
    "undocumented-field": (["klant-read", "verzoek-read"], ["klant-read"], FAILED),
    "handelsnaam-joined": (
        ["klant-create-vestiging", "klant-create-natuurlijk-persoon"],
        ["klant-create-vestiging"],
        FAILED,
    ),
    "list-url-internal": (["klant-list", "klant-read"], ["klant-list"], FAILED),
    "location-internal": (
        ["klant-create-natuurlijk-persoon", "verzoek-create", "klant-read-unknown-404"],
        ["klant-create-natuurlijk-persoon", "verzoek-create"],
        FAILED,
    ),
    "offset-dropped": (
        ["contactmoment-create-interactiedatum-with-offset", "contactmoment-create"],
        ["contactmoment-create-interactiedatum-with-offset"],
        FAILED,
    ),
    "update-not-saved": (
        ["klant-partial-update", "verzoek-update", "klant-read"],
        ["klant-partial-update", "verzoek-update"],
        FAILED,
    ),
    "refused-create-stored": (
        ["verzoek-identificatie-unique-400", "verzoekcontactmoment-unique-400", "verzoek-create"],
        ["verzoek-identificatie-unique-400", "verzoekcontactmoment-unique-400"],
        FAILED,
    ),
    "invalid-params-unnamed": (
        [
            "klant-create-voornaam-max-length-400",
            "verzoek-create-status-required-400",
            "klant-read",
        ],
        ["klant-create-voornaam-max-length-400", "verzoek-create-status-required-400"],
        FAILED,
    ),
    "etag-stale": (
        [
            "klant-etag-changes-after-update",
            "verzoek-etag-changes-after-update",
            "contactmoment-etag-changes-after-update",
            "klant-etag-not-modified",
        ],
        [
            "klant-etag-changes-after-update",
            "verzoek-etag-changes-after-update",
            "contactmoment-etag-changes-after-update",
        ],
        WARNING,
    ),
    "filter-inexact": (
        ["verzoekproduct-filter-product-code-exact", "verzoekproduct-filter-verzoek"],
        ["verzoekproduct-filter-product-code-exact"],
        FAILED,
    ),
    "list-shows-deleted": (
        [
            "klant-delete",
            "contactmoment-delete",
            "verzoek-delete",
            "verzoekproduct-delete",
            "verzoekcontactmoment-delete",
            "klant-list",
        ],
        [
            "klant-delete",
            "contactmoment-delete",
            "verzoek-delete",
            "verzoekproduct-delete",
            "verzoekcontactmoment-delete",
        ],
        FAILED,
    ),
    "patch-forgets-nested": (
        [
            "klant-partial-update",
            "klant-partial-update-nested-field",
            "contactmoment-partial-update",
            "verzoek-partial-update",
        ],
        [
            "klant-partial-update",
            "klant-partial-update-nested-field",
            "contactmoment-partial-update",
        ],
        FAILED,
    ),
    # A verzoekinformatieobject to a verzoek that does not exist is still refused with 400
    # under this defect: the kic-001 path turns the database's foreign-key refusal into
    # does_not_exist (it must, for a create racing the delete of its verzoek).
    "link-existence-unchecked": (
        [
            "verzoekcontactmoment-create-contactmoment-does-not-exist-400",
            "verzoekcontactmoment-create-verzoek-does-not-exist-400",
            "objectcontactmoment-create-contactmoment-does-not-exist-400",
            "objectverzoek-create-verzoek-does-not-exist-400",
            "verzoekproduct-create-verzoek-does-not-exist-400",
            "verzoekcontactmoment-create",
        ],
        [
            "verzoekcontactmoment-create-contactmoment-does-not-exist-400",
            "verzoekcontactmoment-create-verzoek-does-not-exist-400",
            "objectcontactmoment-create-contactmoment-does-not-exist-400",
            "objectverzoek-create-verzoek-does-not-exist-400",
            "verzoekproduct-create-verzoek-does-not-exist-400",
        ],
        FAILED,
    ),
    "subject-rule-on-create-only": (
        ["klant-partial-update-blank-subject-400", "klant-partial-update"],
        ["klant-partial-update-blank-subject-400"],
        FAILED,
    ),
}

#: defect -> the check that must be among the failed ones of every case it breaks: the
#: defect is caught by the check made for it, not by a side effect elsewhere.
CAUGHT_BY: dict[str, str] = {
    "content-type-missing": "content_type",
    "undocumented-field": "no_undocumented_fields",
    "handelsnaam-joined": "variant_schema",
    "list-url-internal": "urls_under_api_root",
    "location-internal": "location_is_url",
    "offset-dropped": "write_carries_sent",
    "update-not-saved": "read_matches_write",
    "refused-create-stored": "refused_write_unchanged",
    "invalid-params-unnamed": "invalid_param_names",
    "etag-stale": "status_code",
    "filter-inexact": "body",
    "list-shows-deleted": "body",
    "patch-forgets-nested": "body",
    "link-existence-unchecked": "status_code",
    "subject-rule-on-create-only": "status_code",
}


@pytest.fixture(scope="module")
def library() -> dict[str, Scenario]:
    return {s.id: s for s in load_library()}


@pytest.fixture(scope="module")
def correct_kic() -> Iterator[RunConfig]:
    with embedded_environment(fuzz_examples=0) as config:
        yield config


def _run(config: RunConfig, library: dict[str, Scenario], ids: list[str]) -> RunResult:
    # Without the pre-flight: it stops a KIC that lets the narrow client write before any
    # scenario runs (tests/harness/test_preflight.py); here the scenarios must catch it.
    return run(config, scenarios=[library[i] for i in ids], preflight=False)


def _outcomes(result: RunResult) -> dict[str, Outcome]:
    return {c.id: c.outcome for c in result.cases}


def _explain(result: RunResult) -> dict[str, object]:
    return {
        c.id: (c.outcome.value, c.error or [f"{k.name}: {k.message}" for k in c.failed_checks()])
        for c in result.cases
    }


def _proven_by_scenarios(library: dict[str, Scenario]) -> set[str]:
    """The defects named by scenarios' ``proof`` keys; each is shown failing its scenario
    elsewhere (the kic-001 holes: tests/harness/test_kic001_holes.py)."""
    from harness import yamlload

    proven: set[str] = set()
    for scenario in library.values():
        proof = yamlload.load(scenario.file.read_text(encoding="utf-8")).get("proof") or {}
        proven |= {proof["defect"]} if "defect" in proof else set(proof.get("defects") or [])
    return proven


def test_the_table_covers_every_defect_switch(library) -> None:
    from reference_kic.config import DEFECTS as SWITCHES

    assert set(DEFECTS) | _proven_by_scenarios(library) == set(SWITCHES)


def test_every_caught_by_entry_is_a_defect_of_the_table() -> None:
    assert set(CAUGHT_BY) <= set(DEFECTS)


def test_the_table_names_existing_scenarios(library) -> None:
    for selection, expected, _ in DEFECTS.values():
        assert set(expected) <= set(selection)
        assert [i for i in selection if i not in library] == []


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_defect_is_caught_by_the_intended_scenarios(defect, library) -> None:
    selection, expected, outcome = DEFECTS[defect]
    with embedded_environment(defects=frozenset({defect}), fuzz_examples=0) as config:
        result = _run(config, library, selection)
    assert result.aborted is None
    outcomes = _outcomes(result)
    assert {i: outcomes[i] for i in expected} == dict.fromkeys(expected, outcome), _explain(result)
    controls = [i for i in selection if i not in expected]
    assert {i: outcomes[i] for i in controls} == dict.fromkeys(controls, Outcome.PASSED), _explain(
        result
    )
    if outcome is WARNING:  # a selection without failures: never more than NO FAILURES
        assert result.verdict_state == "NO FAILURES", _explain(result)
    else:
        assert result.verdict == "NOT CONFORMANT"
    if defect in CAUGHT_BY:
        by = CAUGHT_BY[defect]
        cases = {c.id: c for c in result.cases}
        missed = [
            i
            for i in expected
            if not any(k.name.endswith(f": {by}") for k in cases[i].failed_checks())
        ]
        assert missed == [], _explain(result)


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_the_same_selection_passes_on_the_correct_kic(defect, library, correct_kic) -> None:
    selection, _, _ = DEFECTS[defect]
    result = _run(correct_kic, library, selection)
    assert result.verdict_state == "NO FAILURES"
    assert set(_outcomes(result).values()) == {Outcome.PASSED}, _explain(result)
