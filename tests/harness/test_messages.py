"""Check messages show response and expected values as JSON (``null``, ``"text"``, ``{"a": 1}``),
never as Python reprs (``None``, ``'text'``, ``{'a': 1}``): a vendor reads JSON."""

from __future__ import annotations

from types import SimpleNamespace

from harness import checks, compat, matchers
from harness.compare import Schemas
from harness.results import Level
from harness.spec import load_spec
from harness.transport import Response


def test_matcher_messages_show_json() -> None:
    expected = [{"url": matchers.AnyUrl(), "tekst": "één"}]
    actual = [{"url": "http://kic/x", "tekst": None}]
    [problem] = matchers.match(matchers.Contains(expected), actual)
    assert 'no element matches expected item 0 {"url": "!anyurl", "tekst": "één"}' in problem
    assert "'" not in problem
    assert matchers.match({"a": "x"}, {"a": None}) == ['$.a: expected "x", got null']
    assert matchers.match({"a": True}, {"a": False}) == ["$.a: expected true, got false"]


def test_show_falls_back_to_repr_only_for_what_json_cannot_write() -> None:
    assert matchers.show({"a": [1, None, "é"]}) == '{"a": [1, null, "é"]}'
    assert matchers.show(b"raw") == "b'raw'"
    assert matchers.show(float("nan")) == "nan"
    assert matchers.show("x" * 200, limit=10) == '"xxxxxx...'


def test_check_messages_show_json() -> None:
    seen = SimpleNamespace(
        response=Response(200, {"X-Gone": "it's here"}, b'{"code": null}'), index=0
    )
    absent = checks.headers_match(seen, {"X-Gone": matchers.Absent()}, Level.MUST)
    assert absent.message == 'header X-Gone: expected to be absent, got "it\'s here"'
    code = checks.error_code(seen, "invalid", Level.REFERENCE)
    assert code.message == 'expected error code "invalid", got null'


def test_content_type_and_comparison_messages_show_json() -> None:
    judged = compat.judge_content_type(404, "text/html", ["application/problem+json"])
    [problem] = judged.must_texts()
    assert problem.startswith('header Content-Type: "text/html" is not documented')
    schemas = Schemas(load_spec())
    found = schemas.differences({"a": "x", "b": None}, {"a": "y"}, {})
    assert found == ['$.a: "x", then "y"', "$.b: null, then missing"]
