"""Body matchers of the scenario format: plain values, subset mappings, lists and YAML tags.

:func:`match` compares an expected tree against an actual JSON value and returns every
mismatch as ``"<json path>: <what was wrong>"`` (empty list: it matches). Tag classes
(``!anyuuid``, ``!anyurl``, ``!regex``, ``!type``, ``!absent``, ``!present``, ``!contains``,
``!not_contains``, ``!not``, ``!len``) are small objects with one ``mismatches`` method each; a
tag that holds expectations of its own (``!contains``) gives them to the templating through
``inner`` and ``with_inner``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")


class Matcher:
    """Base of every tag matcher; ``tag`` is its YAML tag."""

    tag = "!matcher"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        raise NotImplementedError

    def to_json(self) -> Any:
        """A JSON-ready description, for reports."""
        return self.tag

    def inner(self) -> list[Any]:
        """The expectations this matcher holds (templates to fill in); none by default."""
        return []

    def with_inner(self, values: list[Any]) -> Matcher:
        """A copy holding ``values`` in place of :meth:`inner` (same order)."""
        return self


@dataclass(frozen=True)
class AnyUuid(Matcher):
    tag = "!anyuuid"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if isinstance(actual, str):
            try:
                uuid.UUID(actual)
                return []
            except ValueError:
                pass
        return [f"{path}: expected a UUID, got {show(actual)}"]


@dataclass(frozen=True)
class AnyUrl(Matcher):
    tag = "!anyurl"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if isinstance(actual, str):
            parts = urlsplit(actual)
            if parts.scheme in ("http", "https") and parts.netloc:
                return []
        return [f"{path}: expected an absolute http(s) URL, got {show(actual)}"]


@dataclass(frozen=True)
class Regex(Matcher):
    """A string that the pattern matches entirely (``re.fullmatch``).

    The pattern's ``{name}`` placeholders are filled in, regex-escaped, by
    :func:`harness.templating.render` before a step's expectations are matched.
    """

    pattern: str
    tag = "!regex"

    def __post_init__(self) -> None:
        re.compile(self.pattern)  # raises re.error for the loader to report

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if isinstance(actual, str) and re.fullmatch(self.pattern, actual):
            return []
        return [f"{path}: expected a string matching /{self.pattern}/, got {show(actual)}"]

    def to_json(self) -> Any:
        return f"!regex {self.pattern}"


@dataclass(frozen=True)
class JsonType(Matcher):
    name: str
    tag = "!type"

    def __post_init__(self) -> None:
        if self.name not in JSON_TYPES:
            raise ValueError(f"!type needs one of {', '.join(JSON_TYPES)}, not {self.name!r}")

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if json_type(actual) == self.name or (
            self.name == "number" and json_type(actual) == "integer"
        ):
            return []
        return [f"{path}: expected a JSON {self.name}, got {_typed(actual)}"]

    def to_json(self) -> Any:
        return f"!type {self.name}"


@dataclass(frozen=True)
class Absent(Matcher):
    """Only meaningful as a mapping value: the key must not be there."""

    tag = "!absent"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        return [f"{path}: expected to be absent, got {show(actual)}"]


@dataclass(frozen=True)
class Present(Matcher):
    tag = "!present"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        return []


@dataclass(frozen=True)
class Contains(Matcher):
    items: tuple[Any, ...]
    tag = "!contains"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, list):
            return [f"{path}: expected an array, got {_typed(actual)}"]
        problems = []
        for index, wanted in enumerate(self.items):
            if not any(not match(wanted, element, path) for element in actual):
                problems.append(
                    f"{path}: no element matches expected item {index} {show(to_json(wanted))}"
                )
        return problems

    def to_json(self) -> Any:
        return {"!contains": [to_json(i) for i in self.items]}

    def inner(self) -> list[Any]:
        return list(self.items)

    def with_inner(self, values: list[Any]) -> Matcher:
        return Contains(tuple(values))


@dataclass(frozen=True)
class NotContains(Matcher):
    """An array none of whose elements matches any of the given matchers (a deleted object
    is gone from its list)."""

    items: tuple[Any, ...]
    tag = "!not_contains"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if not isinstance(actual, list):
            return [f"{path}: expected an array, got {_typed(actual)}"]
        problems = []
        for index, unwanted in enumerate(self.items):
            hits = [i for i, element in enumerate(actual) if not match(unwanted, element, path)]
            if hits:
                problems.append(
                    f"{path}[{hits[0]}]: matches item {index} {show(to_json(unwanted))}, "
                    "which must not be there"
                )
        return problems

    def to_json(self) -> Any:
        return {"!not_contains": [to_json(i) for i in self.items]}

    def inner(self) -> list[Any]:
        return list(self.items)

    def with_inner(self, values: list[Any]) -> Matcher:
        return NotContains(tuple(values))


@dataclass(frozen=True)
class Not(Matcher):
    """Any value that does not match the given one (an ETag that changed: ``!not "{etag}"``)."""

    value: Any
    tag = "!not"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if match(self.value, actual, path):
            return []
        return [f"{path}: expected anything but {show(to_json(self.value))}, got {show(actual)}"]

    def to_json(self) -> Any:
        return {"!not": to_json(self.value)}

    def inner(self) -> list[Any]:
        return [self.value]

    def with_inner(self, values: list[Any]) -> Matcher:
        return Not(values[0])


@dataclass(frozen=True)
class Length(Matcher):
    length: int
    tag = "!len"

    def mismatches(self, actual: Any, path: str) -> list[str]:
        if isinstance(actual, (list, str)) and len(actual) == self.length:
            return []
        if isinstance(actual, (list, str)):
            return [f"{path}: expected length {self.length}, got length {len(actual)}"]
        return [f"{path}: expected an array or string of length {self.length}, got {show(actual)}"]

    def to_json(self) -> Any:
        return f"!len {self.length}"


def json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def match(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every way ``actual`` fails ``expected`` (subset for mappings, element-wise for lists)."""
    if isinstance(expected, Matcher):
        return expected.mismatches(actual, path)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_typed(actual)}"]
        problems = []
        for key, wanted in expected.items():
            child = f"{path}.{key}"
            if isinstance(wanted, Absent):
                if key in actual:
                    problems.extend(wanted.mismatches(actual[key], child))
                continue
            if key not in actual:
                problems.append(f"{child}: missing (expected {show(to_json(wanted))})")
                continue
            problems.extend(match(wanted, actual[key], child))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected an array, got {_typed(actual)}"]
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} elements, got {len(actual)}"]
        problems = []
        for index, (wanted, element) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(match(wanted, element, f"{path}[{index}]"))
        return problems
    types = {json_type(expected), json_type(actual)}
    if len(types) > 1 and types != {"integer", "number"}:
        return [f"{path}: expected {show(expected)}, got {_typed(actual)}"]
    if expected != actual:
        return [f"{path}: expected {show(expected)}, got {show(actual)}"]
    return []


def to_json(expected: Any) -> Any:
    """A JSON-ready rendering of an expectation tree (tags become strings)."""
    if isinstance(expected, Matcher):
        return expected.to_json()
    if isinstance(expected, dict):
        return {k: to_json(v) for k, v in expected.items()}
    if isinstance(expected, list):
        return [to_json(v) for v in expected]
    return expected


def _typed(value: Any) -> str:
    """A value with its JSON type: ``string "x"``, ``array [1]``; ``null`` once, not twice."""
    shown = show(value)
    kind = json_type(value)
    return shown if shown == kind else f"{kind} {shown}"


def show(value: Any, limit: int = 120) -> str:
    """``value`` as a check message shows it: one line of JSON (``null``, ``"text"``, no
    escaped non-ASCII letters), a repr only for what JSON cannot write; cut at ``limit``."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
