"""Broken KICs are caught: the proof of every must-level scenario, and what else each defect
of the reference KIC must (not) do.

A must-level scenario names, with ``proof:`` in its file, the deliberately broken reference KIC
that must make it fail (``{defect: ...}``, or ``{defects: [...]}``: each one on its own). That
is the one home of "which defect proves which scenario"; this module runs it. Per defect, one
embedded reference KIC (strict mock DRC, no pre-flight) runs:

- every scenario the defect proves: each must come out FAILED (not precondition failed), with a
  failed must-level check in a step under test, so the behaviour under test is what broke;
- its controls (:data:`CONTROLS`): scenarios the defect does not touch, which must pass, so
  the defect breaks its rule and not everything;
- the should-level scenarios it breaks (:data:`WARNINGS`): a warning, never a failure;
- :data:`CAUGHT_BY`: the check that must be among the failed ones of every case it breaks.

That every scenario passes on the correct reference KIC is
tests/harness/test_library.py's whole-library run.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from harness import checks, templating
from harness.environment import checked_defects, embedded_environment, known_defects
from harness.results import CaseResult, Level, Outcome, RunResult
from harness.run import run
from harness.scenarios import Scenario, Step, load_library
from harness.spec import load_spec
from reference_kic.defects import Defects

LIBRARY: dict[str, Scenario] = {s.id: s for s in load_library()}
MUST = [s for s in LIBRARY.values() if s.level is Level.MUST]
#: Folders (and tags) whose must-level scenarios all need a proof (the rest: at least 90 %).
PROVEN_FOLDERS = {"kic-001", "auth"}

#: defect -> the scenarios it proves (their ``proof:``).
PROVEN: dict[str, list[str]] = defaultdict(list)
for _scenario in MUST:
    for _defect in _scenario.proof:
        PROVEN[_defect].append(_scenario.id)

#: defect -> scenarios it does not touch, which must pass on it.
CONTROLS: dict[str, list[str]] = {
    "field-dropped": ["klant-read"],
    "wrong-type": ["verzoek-read"],
    "filter-ignored": ["verzoek-list"],
    "etag-missing": ["klant-read"],
    "scope-not-enforced": ["auth-narrow-client-can-read"],
    "location-missing": ["klant-read"],
    "parse-error-fout": ["klant-create-malformed-json-400"],
    "content-type-missing": ["klant-list"],
    "undocumented-field": ["verzoek-read"],
    "handelsnaam-joined": ["klant-create-natuurlijk-persoon"],
    "list-url-internal": ["klant-read"],
    "location-internal": ["klant-read-unknown-404"],
    "offset-dropped": ["contactmoment-create"],
    "update-not-saved": ["klant-read"],
    "refused-create-stored": ["verzoek-create"],
    "invalid-params-unnamed": ["klant-read"],
    "etag-stale": ["klant-etag-not-modified"],
    "filter-inexact": ["verzoekproduct-filter-verzoek"],
    "list-shows-deleted": ["klant-list"],
    "patch-forgets-nested": ["verzoek-partial-update"],
    "link-existence-unchecked": ["verzoekcontactmoment-create"],
    "subject-rule-on-create-only": ["klant-partial-update"],
    "delete-wrong-mirror": ["kic-001-create-mirrors"],
    "not-found-500": ["klant-read"],
    "unknown-parameters-ignored": ["verzoekproduct-filter-verzoek"],
    "unserved-method-404": ["verzoekproduct-read"],
    "media-type-ignored": ["klant-list", "klant-create-natuurlijk-persoon"],
    "auth-after-write": ["auth-narrow-client-can-read"],
    # The DRC refuses the second POST: the relation keeps its one mirror, only a count sees it.
    "mirror-posted-twice": ["verzoekinformatieobject-create"],
}

#: defect -> should-level scenarios it breaks: they come out with a warning.
WARNINGS: dict[str, list[str]] = {
    "etag-missing": ["klant-etag-not-modified", "verzoek-etag-not-modified"],
    "parse-error-fout": ["http-malformed-json-is-a-validatiefout"],
    "etag-stale": [
        "klant-etag-changes-after-update",
        "verzoek-etag-changes-after-update",
        "contactmoment-etag-changes-after-update",
    ],
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
    "not-found-500": "status_code",
    "unknown-parameters-ignored": "status_code",
    "unserved-method-404": "status_code",
    "media-type-ignored": "status_code",
    # The write is refused with the right status: only the invariant sees what it changed.
    "auth-after-write": "refused_write_unchanged",
    "mirror-posted-twice": "drc_received",
}
#: defect -> scenario -> the check that catches it there instead of its CAUGHT_BY one.
CAUGHT_OTHERWISE: dict[str, dict[str, str]] = {
    # The zaak still lists the relation, so the delete is refused (400) before the late
    # token check: nothing changes, the status is what is wrong.
    "auth-after-write": {
        "auth-narrow-client-objectcontactmoment-delete": "status_code",
        "auth-narrow-client-objectverzoek-delete": "status_code",
    },
}

RUN_DEFECTS = sorted(set(PROVEN) | set(WARNINGS))
#: Defects that change every validation refusal at once, not one rule: the 422 status, the
#: unnamed invalidParams.
EVERY_REFUSAL = {"validation-422", "invalid-params-unnamed"}


def _folder(scenario: Scenario) -> str:
    return Path(scenario.file).parent.name


def _strict(scenario: Scenario) -> bool:
    """Whether the scenario must have a proof: located or tagged kic-001 or auth (or rule
    kic-001)."""
    labels = {_folder(scenario), scenario.rule, *scenario.tags}
    return bool(labels & PROVEN_FOLDERS)


def _explain(cases: list[CaseResult]) -> dict[str, object]:
    return {
        c.id: (c.outcome.value, c.error or [f"{k.name}: {k.message}" for k in c.failed_checks()])
        for c in cases
    }


def _fails_under_test(case: CaseResult) -> bool:
    return any(c.level is Level.MUST and c.under_test for c in case.failed_checks())


def test_must_scenarios_without_proof() -> None:
    """A proof must break the scenario's own rule: defects that change every refusal at once
    (:data:`EVERY_REFUSAL`) only show the scenario looks at the status and the names, so a
    scenario proven by those alone counts as without proof."""
    missing = sorted(s.id for s in MUST if not set(s.proof) - EVERY_REFUSAL)
    print(f"\n{len(missing)} of {len(MUST)} must-level scenarios have no proof of their own rule:")
    for scenario_id in missing:
        scenario = LIBRARY[scenario_id]
        shown = f", only {', '.join(scenario.proof)}" if scenario.proof else ""
        print(f"  {scenario_id} ({scenario.source}{shown})")
    strict = [i for i in missing if _strict(LIBRARY[i])]
    assert strict == [], f"{sorted(PROVEN_FOLDERS)} scenarios need a proof"
    assert len(missing) * 10 < len(MUST), missing


def test_every_proof_names_a_defect_of_the_reference_kic() -> None:
    # The same check as ``demo --defect`` (a family's value too), and the name or its
    # family among the listed defects.
    listed = {name.partition(":")[0] for name in known_defects()}
    unknown = {}
    for defect in PROVEN:
        try:
            checked_defects([defect])
        except ValueError as exc:
            unknown[defect] = str(exc)
        if defect.partition(":")[0] not in listed:
            unknown[defect] = "not among known_defects()"
    assert unknown == {}


def test_only_must_scenarios_have_a_proof() -> None:
    # A should-level scenario a defect breaks comes out with a warning: WARNINGS says which.
    assert [s.id for s in LIBRARY.values() if s.proof and s.level is not Level.MUST] == []


def test_every_defect_switch_proves_something() -> None:
    used = set(PROVEN) | set(WARNINGS)
    families = {name.partition(":")[0] for name in used}
    declared = {d.name: d.takes_parameter for d in Defects.declared.values()}
    unused = sorted(n for n, family in declared.items() if n not in (families if family else used))
    assert unused == []


def test_the_tables_name_existing_scenarios_and_defects() -> None:
    for table in (CONTROLS, WARNINGS):
        assert [i for ids in table.values() for i in ids if i not in LIBRARY] == []
        assert [d for d in table if d not in Defects.declared] == []
    assert set(CAUGHT_BY) <= set(PROVEN) | set(WARNINGS)
    assert [i for d, c in CAUGHT_OTHERWISE.items() for i in c if i not in PROVEN[d]] == []
    # A control is a scenario the defect must not break: never one it proves.
    overlap = {d: sorted(set(CONTROLS[d]) & set(PROVEN[d])) for d in CONTROLS}
    assert {d: ids for d, ids in overlap.items() if ids} == {}


API_ROOT = "http://kic.test/api/v1"
UNIQUE = "0123456789ab"


def _stand_ins(scenario: Scenario) -> dict[str, object]:
    """Variables as a run gives them: what a KIC call saves is a URL of the KIC's, what the
    DRC gives one of the DRC's."""
    variables: dict[str, object] = {
        "unique": UNIQUE,
        "api_root": API_ROOT,
        "documents_root": "http://drc.test/documenten/api/v1",
        "second_documents_root": "http://drc2.test/documenten/api/v1",
        "zaken_root": "http://drc.test/zaken/api/v1",
    }
    for step in scenario.steps:
        kic = step.kind in ("call", "request")
        for name in step.data.get("save") or {}:
            where = f"{API_ROOT}/x" if kic else "http://drc.test/x"
            variables[name] = f"{where}/00000000-0000-4000-8000-000000000001"
    for name, value in scenario.vars.items():
        variables[name] = templating.render(value, variables)
    return variables


def _refused_creates(scenario: Scenario) -> list[tuple[Step, dict]]:
    """The scenario's POST steps under test that expect only 4xx, rendered."""
    spec, found = load_spec(), []
    variables = _stand_ins(scenario)
    for step in scenario.steps:
        if not step.under_test or step.kind not in ("call", "request"):
            continue
        if step.kind == "call":
            method = spec.operation(step.data["call"]).method
        else:
            method = step.data["request"]["method"]
        if method.upper() != "POST":
            continue
        data = templating.render({k: v for k, v in step.data.items() if k != "save"}, variables)
        wanted = (data.get("expect") or {}).get("status")
        statuses = wanted if isinstance(wanted, list) else [wanted]
        if all(isinstance(s, int) and 400 <= s < 500 for s in statuses):
            found.append((step, data))
    return found


def test_every_refused_create_is_checked_for_side_effects() -> None:
    # refused_write_unchanged judges a refused POST only when its body holds a value no other
    # scenario sends ({unique}, or a link to a KIC object): other scenarios create in the same
    # lists meanwhile. A refused create without one would let a KIC that stores the invalid
    # object pass (refused-create-stored proves the check where the reference can store it).
    # Exempt: bodies that send no field at all ({}, malformed JSON, an array, text/plain),
    # which no stored object could carry.
    spec, unjudged = load_spec(), []
    for scenario in LIBRARY.values():
        for step, data in _refused_creates(scenario):
            body = data.get("body")
            if not isinstance(body, dict) or not body:
                continue
            url = f"{API_ROOT}/x"
            if checks.probe_url("POST", url, data, spec, API_ROOT, UNIQUE) is None:
                unjudged.append(f"{scenario.id} {step.label} ({scenario.source})")
    assert unjudged == [], "put {unique} in a field the body can carry"


def _tampers_with_the_drc(scenario: Scenario) -> bool:
    """DRC faults or mirrors removed behind the KIC's back: a KIC may then POST a mirror again."""
    return any(
        s.kind == "drc" and s.data["drc"] in ("fault", "remove_mirrors") for s in scenario.steps
    )


def test_every_fault_free_kic001_link_counts_its_mirror_posts() -> None:
    # The DRC refuses a second POST of a mirror it holds, so neither `mirrors` nor `mirrored`
    # sees a KIC that posts twice; only a count of the POSTs does (mirror-posted-twice).
    uncounted = []
    for scenario in LIBRARY.values():
        if scenario.rule != "kic-001" or _tampers_with_the_drc(scenario):
            continue
        counted = {
            received["json"].get("informatieobject")
            for step in scenario.steps
            if step.kind == "drc_expect"
            and (received := step.data["drc_expect"].get("received"))
            and str(received.get("method", "")).upper() == "POST"
            and received.get("count") == 1
            and isinstance(received.get("json"), dict)
        }
        for step in scenario.steps:
            if step.data.get("call") != "verzoekinformatieobject_create":
                continue
            if (step.data.get("expect") or {}).get("status") != 201:
                continue
            document = step.data["body"]["informatieobject"]
            if document not in counted:
                uncounted.append(f"{scenario.id} {step.label}: {document}")
    assert uncounted == [], "add a drc_expect received POST with count: 1 for each link"


@pytest.mark.slow
@pytest.mark.parametrize("defect", RUN_DEFECTS)
def test_the_defect_fails_what_it_proves_and_nothing_else(defect: str) -> None:
    proven, controls, warned = PROVEN[defect], CONTROLS.get(defect, []), WARNINGS.get(defect, [])
    selection = [LIBRARY[i] for i in dict.fromkeys([*proven, *controls, *warned])]
    with embedded_environment(defects=frozenset({defect}), fuzz_examples=0) as config:
        # Without the pre-flight: it stops a KIC that lets the narrow client write before any
        # scenario runs (tests/harness/test_preflight.py); here the scenarios must catch it.
        result: RunResult = run(config, scenarios=selection, preflight=False)
    assert result.aborted is None
    cases = {c.id: c for c in result.cases}
    not_proven = [
        cases[i]
        for i in proven
        if cases[i].outcome is not Outcome.FAILED or not _fails_under_test(cases[i])
    ]
    assert _explain(not_proven) == {}
    broken_controls = [cases[i] for i in controls if cases[i].outcome is not Outcome.PASSED]
    assert _explain(broken_controls) == {}
    not_warned = [cases[i] for i in warned if cases[i].outcome is not Outcome.WARNING]
    assert _explain(not_warned) == {}
    if defect in CAUGHT_BY:
        otherwise = CAUGHT_OTHERWISE.get(defect, {})
        missed = [
            cases[i]
            for i in [*proven, *warned]
            if not any(
                k.name.endswith(f": {otherwise.get(i, CAUGHT_BY[defect])}")
                for k in cases[i].failed_checks()
            )
        ]
        assert _explain(missed) == {}
