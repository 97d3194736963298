"""Selection of scenarios (tags, ids, operations, exclusions) and which must run alone."""

from __future__ import annotations

import json

from harness.config import RunConfig, Selection
from harness.drc_control import DrcControl
from harness.report import redact
from harness.scenarios import load_library

BASE = "id: {id}\ntitle: t\nrule: {rule}\ntags: [{tag}]\nsteps:\n{steps}"
LIST = "  - call: klant_list\n"
LIST_UNDER_TEST = LIST + "    under_test: true\n"
FAULT = "  - drc: fault\n    method: POST\n    path: objectinformatieobjecten\n    status: 500\n"
ABSENT = "  - drc_expect: {not_received: {method: DELETE}}\n"
PRESENT = "  - drc_expect: {received: {method: POST}}\n"


def library(scenario_dir):
    files = {
        "a": BASE.format(id="a", rule="kic-001", tag="x", steps=LIST_UNDER_TEST),
        "b": BASE.format(id="b", rule="oas:klant_list", tag="y", steps=LIST + FAULT),
        "c": BASE.format(id="c", rule="oas:klant_list", tag="y", steps=LIST + ABSENT),
        "d": BASE.format(id="d", rule="kic-001", tag="z", steps=PRESENT),
    }
    return {s.id: s for s in load_library([scenario_dir(**files)])}


def chosen(scenarios, **selection) -> list[str]:
    return sorted(i for i, s in scenarios.items() if Selection(**selection).selects(s))


def test_selection_by_tag_rule_id_and_operation(scenario_dir) -> None:
    scenarios = library(scenario_dir)
    assert chosen(scenarios) == ["a", "b", "c", "d"]
    assert chosen(scenarios, tags=["kic-001"]) == ["a", "d"]
    assert chosen(scenarios, tags=["klanten"]) == ["a", "b", "c", "d"]  # the folder
    assert chosen(scenarios, ids=["c"]) == ["c"]
    assert chosen(scenarios, operations=["klant_list"]) == ["a", "b", "c"]
    assert chosen(scenarios, tags=["y"], exclude_ids=["b"]) == ["c"]
    assert chosen(scenarios, exclude_tags=["x", "z"]) == ["b", "c"]
    assert chosen(scenarios, exclude_operations=["klant_list"]) == ["d"]


def test_faults_and_absences_run_alone(scenario_dir) -> None:
    scenarios = library(scenario_dir)
    assert [i for i, s in sorted(scenarios.items()) if s.needs_exclusive_drc] == ["b", "c"]


def test_capabilities_follow_the_config() -> None:
    bare = RunConfig(target="http://kic/api/v1/", client_id="a", secret="b")
    assert bare.target == "http://kic/api/v1" and bare.available_capabilities() == frozenset()
    full = RunConfig(
        target="http://kic/api/v1",
        client_id="a",
        secret="s3cr3t-value",
        narrow_client=("n", "s"),
        drc_url="http://drc:8500/",
    )
    assert full.available_capabilities() == {"drc", "zaken", "narrow-client"}
    with DrcControl(full.drc_url) as drc:
        assert drc.documents_root == "http://drc:8500/documenten/api/v1"
    assert "s3cr3t-value" not in json.dumps(full.describe())  # settings carry no secret


def test_redact_masks_tokens_anywhere() -> None:
    assert redact("x eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl y") == "x *** y"
    assert redact('{"authorization": "Bearer abc.def"}') == '{"authorization": "Bearer ***"}'
