"""Scenario loading: the format's errors name file:line; matchers; templates and captures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import matchers
from harness.results import Level
from harness.scenarios import ScenarioError, lint, load_library
from harness.templating import TemplateError, capture, render

GOOD = """\
id: verzoek-read
title: Reading a verzoek
rule: oas:verzoek_read
level: should
tags: [smoke]
vars: {bron: "000000000"}
steps:
  - call: verzoek_create
    body: {bronorganisatie: "{bron}", status: ontvangen}
    expect: {status: 201, body: {url: !anyurl , identificatie: !regex 'VERZOEK-\\d{4}-\\d{10}'}}
    save: {verzoek: $.url}
  - call: verzoek_read
    path: {uuid: "{verzoek|uuid}"}
    expect:
      headers: {ETag: !present , X-Nope: !absent }
      body: {status: !type string, tekst: !len 0}
finally:
  - call: verzoek_delete
    path: {uuid: "{verzoek|uuid}"}
"""


H = "id: x\ntitle: t\nrule: oas:verzoek_list\nsteps:\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    write(tmp_path, "verzoeken/s.yaml", text)
    _, problems = lint([tmp_path])
    return [str(p) for p in problems]


def test_a_good_scenario_loads(tmp_path: Path) -> None:
    write(tmp_path, "verzoeken/s.yaml", GOOD)
    [scenario] = load_library([tmp_path])
    assert scenario.id == "verzoek-read"
    assert scenario.level is Level.SHOULD
    assert scenario.tags == ["smoke", "verzoeken"]  # the folder is added
    # verzoek_delete runs only under finally: cleanup, not exercised by the scenario
    assert scenario.operations == ["verzoek_create", "verzoek_read"]
    assert [s.kind for s in scenario.steps] == ["call", "call"]
    assert scenario.steps[1].line == 12
    assert scenario.source.endswith("verzoeken/s.yaml:1")
    body = scenario.steps[0].data["expect"]["body"]
    assert isinstance(body["url"], matchers.AnyUrl)
    assert isinstance(body["identificatie"], matchers.Regex)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            H + "  - call: verzoek_list\n    bogus: 1\n",
            5,
            "unknown key(s) bogus",
        ),
        (
            H + "  - call: verzoek_lst\n",
            5,
            "no operation 'verzoek_lst'",
        ),
        (H + "  - call: verzoek_read\n", 5, "needs uuid"),
        (
            H + "  - call: verzoek_list\n    query: {verzoek: '{nope}'}\n",
            5,
            "{nope} is used before it is defined",
        ),
        (
            H + "  - call: verzoek_list\n    expect: {body: {url: !regex '{nope}/.*'}}\n",
            5,
            "{nope} is used before it is defined",
        ),
        (
            H + "  - call: verzoek_list\n    expect: {body: !contains [!regex 'x{k|uid}']}\n",
            5,
            "unknown template filter |uid",
        ),
        (
            H + "  - call: verzoek_list\n    drc: create_document\n",
            5,
            "exactly one kind key",
        ),
        (
            H + "  - call: verzoek_list\n    expect: {status: !nope 1}\n",
            6,
            "unknown tag !nope",
        ),
        (
            H + "  - call: verzoek_list\n    expect: {body: !regex '('}\n",
            6,
            "!regex",
        ),
        (
            "id: X_bad\ntitle: t\nrule: kic-001\nsteps:\n  - call: verzoek_list\n",
            1,
            "id: 'X_bad' does not match",
        ),
        (
            "id: x\ntitle: t\nrule: kic-001\nlevel: may\nsteps:\n  - call: verzoek_list\n",
            4,
            "level",
        ),
        (
            H + "  - call: verzoek_list\n    auth: {client: wide}\n",
            6,
            "auth",
        ),
        ("id: x\ntitle: t\nrule: kic-001\nsteps: [\n", 5, "expected"),
        ("id: x\ntitle: t\ntitle: u\nrule: kic-001\nsteps: []\n", 3, "duplicate key 'title'"),
        (
            H + "  - drc_expect: {mirrors: {contains: {object: x}}}\n"
            "    level: must\n  - call: verzoek_list\n    expect: {body: {a: !anyurl}}\n",
            8,
            "space after a tag",
        ),
    ],
)
def test_format_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    problems = problems_of(tmp_path, text)
    assert problems, "expected a problem"
    assert any(
        p.startswith(f"{tmp_path / 'verzoeken/s.yaml'}:{line}:") and fragment in p for p in problems
    ), problems


def test_regex_quantifiers_and_escaped_braces_are_not_placeholders(tmp_path: Path) -> None:
    """Only what templating.render_regex would fill in counts as a use of a variable."""
    text = (
        H + "  - call: verzoek_list\n"
        "    expect:\n"
        "      body:\n"
        "        a: !regex 'V-\\d{4}-\\d{2,3}'\n"
        "        b: !regex '\\{nope}'\n"
        "        c: !regex '{api_root}/verzoeken/.*'\n"
    )
    assert problems_of(tmp_path, text) == []


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a/one.yaml", GOOD)
    write(tmp_path, "b/two.yaml", GOOD)
    with pytest.raises(ScenarioError) as info:
        load_library([tmp_path])
    assert "two.yaml:1: id 'verzoek-read' is already used at" in str(info.value)
    assert "one.yaml:1" in str(info.value)


def test_a_missing_folder_is_a_problem(tmp_path: Path) -> None:
    _, problems = lint([tmp_path / "nope"])
    assert "no such file or folder" in str(problems[0])


# ----------------------------------------------------------------------------- matchers


@pytest.mark.parametrize(
    ("expected", "good", "bad"),
    [
        (matchers.AnyUuid(), "0b8a5a8e-7f6b-4d2f-9a51-2d1f0c7b7a11", "nope"),
        (matchers.AnyUrl(), "https://kic.example/api/v1/klanten/1", "/api/v1/klanten/1"),
        (matchers.Regex(r"VERZOEK-\d{4}-\d{10}"), "VERZOEK-2026-0000000001", "VERZOEK-2026-1"),
        (matchers.JsonType("string"), "x", 1),
        (matchers.JsonType("number"), 1, "1"),
        (matchers.JsonType("null"), None, 0),
        (matchers.JsonType("boolean"), True, 1),
        (matchers.Present(), "anything", None),
        (
            matchers.Contains(({"code": "unique"},)),
            [{"code": "x"}, {"code": "unique"}],
            [{"code": "x"}],
        ),
        (matchers.Length(2), [1, 2], [1]),
        (matchers.Length(3), "abc", "ab"),
        ({"a": 1}, {"a": 1, "extra": 2}, {"a": 2}),
        ({"a": matchers.Absent()}, {"b": 1}, {"a": None}),
        ([1, {"b": 2}], [1, {"b": 2, "c": 3}], [1]),
        (1, 1.0, True),
        ("x", "x", None),
    ],
)
def test_every_matcher_accepts_and_refuses(expected, good, bad) -> None:
    assert matchers.match(expected, good) == []
    if isinstance(expected, matchers.Present):
        assert matchers.match({"k": expected}, {}) != []
    else:
        assert matchers.match(expected, bad) != []


def test_mismatches_name_the_json_path() -> None:
    problems = matchers.match({"a": [{"b": matchers.AnyUuid()}]}, {"a": [{"b": "x"}]})
    assert problems == ['$.a[0].b: expected a UUID, got "x"']
    assert matchers.match({"m": 1}, {}) == ["$.m: missing (expected 1)"]


# ------------------------------------------------------------------------ templating


def test_templates_fill_variables_and_keep_types() -> None:
    variables = {"k": "http://kic/api/v1/klanten/abc", "n": 3, "flag": True}
    assert render({"u": "{k|uuid}", "n": "{n}", "s": "n={n}", "l": ["{flag}"]}, variables) == {
        "u": "abc",
        "n": 3,
        "s": "n=3",
        "l": [True],
    }
    assert render('{"literal": 1}', variables) == '{"literal": 1}'
    regex = matchers.Regex(r"\d{4}")
    assert render({"r": regex}, variables)["r"] is regex
    contains = render(matchers.Contains(({"k": "{k}"},)), variables)
    assert contains.items == ({"k": "http://kic/api/v1/klanten/abc"},)
    with pytest.raises(TemplateError, match="not defined"):
        render("{missing}", variables)


def test_captures_from_body_headers_and_status() -> None:
    body = [{"url": "u", "nested": {"list": [1, 2]}}]
    assert capture("$[0].url", body=body, headers={}, status=200) == "u"
    assert capture("$[0].nested.list[1]", body=body, headers={}, status=200) == 2
    assert capture("$", body=body, headers={}, status=200) == body
    assert capture("header:location", body=None, headers={"Location": "L"}, status=201) == "L"
    assert capture("status", body=None, headers={}, status=204) == 204
    for bad in ("$[5]", "$[0].nope", "$..x", "header:ETag"):
        with pytest.raises(TemplateError):
            capture(bad, body=body, headers={}, status=200)
