"""harness.templating: placeholders inside ``!regex`` patterns are filled in, regex-escaped."""

from __future__ import annotations

from re import escape as re_escape

import pytest

from harness import matchers, yamlload
from harness.templating import TemplateError, render, render_regex

KLANT = "http://kic.example:8000/api/v1/klanten/4f1c?x=1"
VARIABLES = {"klant": KLANT, "n": 3, "year": 2026}


def test_a_regex_placeholder_becomes_the_escaped_value() -> None:
    rendered = render(matchers.Regex(r"{klant}(/.*)?"), VARIABLES)
    assert isinstance(rendered, matchers.Regex)
    assert rendered.pattern == re_escape(KLANT) + "(/.*)?"
    assert matchers.match(rendered, KLANT) == []
    assert matchers.match(rendered, KLANT + "/sub") == []


def test_the_escaped_value_matches_only_itself() -> None:
    # Unescaped, "." would match any character and "?" would make the "c" optional.
    rendered = render(matchers.Regex("{klant}"), VARIABLES)
    assert matchers.match(rendered, "http://kic-example:8000/api/v1/klanten/4f1c?x=1") != []
    assert matchers.match(rendered, "http://kic.example:8000/api/v1/klanten/4f1x=1") != []


def test_filters_and_non_string_values_work_in_patterns() -> None:
    assert render_regex(r"VERZOEK-{year}-\d{10}", VARIABLES) == r"VERZOEK-2026-\d{10}"
    assert render_regex(r"{klant|uuid}", VARIABLES) == re_escape("4f1c?x=1")
    assert render_regex(r"n={n}", VARIABLES) == "n=3"


def test_regex_syntax_with_braces_is_left_alone() -> None:
    assert render_regex(r"\d{4}-\d{2,3}", VARIABLES) == r"\d{4}-\d{2,3}"
    assert render_regex(r"\{klant}", VARIABLES) == r"\{klant}"  # an escaped brace
    assert render_regex(r"\N{BULLET}", VARIABLES) == r"\N{BULLET}"  # a named character
    pattern = matchers.Regex(r"VERZOEK-\d{4}-\d{10}")
    assert render(pattern, VARIABLES) is pattern  # nothing to fill: the same matcher


def test_an_unknown_variable_in_a_pattern_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="not defined"):
        render(matchers.Regex("{missing}.*"), VARIABLES)


def test_patterns_are_filled_inside_loaded_expectations() -> None:
    expect = yamlload.load(
        "body:\n  url: !regex '{klant}'\n  list: !contains [{klant: !regex '{klant}(/.*)?'}]\n"
    )
    rendered = render(expect, VARIABLES)
    actual = {"url": KLANT, "list": [{"klant": KLANT + "/x"}]}
    assert matchers.match(rendered["body"], actual) == []
    assert rendered["body"]["url"].to_json() == f"!regex {re_escape(KLANT)}"
