"""Variables of a running scenario: ``{name}`` templates and ``save`` captures.

:func:`render` fills ``{name}`` / ``{name|uuid}`` placeholders in a request or expectation tree
(a string that is exactly one placeholder keeps the variable's type; in a ``!regex`` pattern the
value is inserted regex-escaped, so it matches literally). :func:`capture` reads a value out of a
response: ``$.a.b``, ``$[0].url``, ``$``, ``header:Location`` or ``status``.
:func:`placeholders` lists the placeholders of a tree, for the scenario linter and for the
runner's decision to skip a cleanup step whose variables were never set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from harness import matchers

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([A-Za-z_]+))?\}")
# In a regex pattern, "\{name}" is an escaped brace and "\N{NAME}" a named character, not
# placeholders; quantifiers ("\d{4}", "{2,3}") never look like one because names start with a
# letter or underscore.
REGEX_PLACEHOLDER = re.compile(r"(?<!\\)(?<!\\N)" + PLACEHOLDER.pattern)
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class TemplateError(Exception):
    """A template names an unknown variable or filter, or a capture cannot be read."""


def uuid_of(url: str) -> str:
    """The last path segment of an object URL (its uuid, in a ZGW API)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _uuid_filter(name: str, value: Any) -> Any:
    """``{name|uuid}``: the last path segment of a URL."""
    if not isinstance(value, str):
        raise TemplateError(f"{{{name}|uuid}}: the value {value!r} is not a URL")
    return uuid_of(value)


#: The template filters: ``{name|filter}`` -> function(variable name, value).
FILTERS: dict[str, Callable[[str, Any], Any]] = {"uuid": _uuid_filter}


def _apply_filter(value: Any, name: str, filt: str | None) -> Any:
    if filt is None:
        return value
    if filt in FILTERS:
        return FILTERS[filt](name, value)
    raise TemplateError(f"unknown template filter |{filt} in {{{name}|{filt}}}")


def placeholders(value: Any) -> list[tuple[str, str | None]]:
    """Every ``(name, filter)`` of the ``{name}`` / ``{name|filter}`` in a tree.

    ``!regex`` patterns are searched with :data:`REGEX_PLACEHOLDER`, the expression
    :func:`render_regex` fills in, so an escaped brace (``\\{name}``) or a quantifier
    (``\\d{4}``) is no placeholder here either.
    """
    found: list[tuple[str, str | None]] = []
    if isinstance(value, str):
        found.extend((m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(value))
    elif isinstance(value, matchers.Regex):
        found.extend((m.group(1), m.group(2)) for m in REGEX_PLACEHOLDER.finditer(value.pattern))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(placeholders(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(placeholders(item))
    elif isinstance(value, matchers.Matcher):
        found.extend(placeholders(value.inner()))
    return found


def _lookup(variables: Mapping[str, Any], name: str) -> Any:
    if name not in variables:
        raise TemplateError(
            f"variable {{{name}}} is not defined (known: {', '.join(sorted(variables))})"
        )
    return variables[name]


def render_string(text: str, variables: Mapping[str, Any]) -> Any:
    """Fill the placeholders of one string."""
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return _apply_filter(_lookup(variables, whole.group(1)), whole.group(1), whole.group(2))

    def replace(match: re.Match[str]) -> str:
        value = _apply_filter(_lookup(variables, match.group(1)), match.group(1), match.group(2))
        return value if isinstance(value, str) else _scalar_text(value)

    return PLACEHOLDER.sub(replace, text)


def render_regex(pattern: str, variables: Mapping[str, Any]) -> str:
    """Fill the placeholders of a ``!regex`` pattern, each value escaped to match literally.

    A saved URL holds ``.`` and ``?``, which unescaped would match any character or make the
    previous one optional, so ``!regex '{klant}/.*'`` must not see them as regex syntax.
    """

    def replace(match: re.Match[str]) -> str:
        value = _apply_filter(_lookup(variables, match.group(1)), match.group(1), match.group(2))
        return re.escape(value if isinstance(value, str) else _scalar_text(value))

    return REGEX_PLACEHOLDER.sub(replace, pattern)


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """A copy of ``value`` with every template string filled in."""
    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, dict):
        rendered = {
            render(k, variables) if isinstance(k, str) else k: render(v, variables)
            for k, v in value.items()
        }
        return rendered
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    if isinstance(value, matchers.Regex):
        pattern = render_regex(value.pattern, variables)
        return value if pattern == value.pattern else matchers.Regex(pattern)
    if isinstance(value, matchers.Matcher) and value.inner():
        return value.with_inner(render(value.inner(), variables))
    return value


def json_path(document: Any, expression: str) -> Any:
    """Evaluate the JSONPath subset ``$``, ``$.a.b``, ``$[0].url``, ``$.list[2]``."""
    if not expression.startswith("$"):
        raise TemplateError(f"a capture path starts with $, not {expression!r}")
    rest, value, position = expression[1:], document, 1
    for token in _PATH_TOKEN.finditer(rest):
        if token.start() != position - 1:
            break
        position = token.end() + 1
        key, index = token.group(1), token.group(2)
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                raise TemplateError(f"{expression}: no key {key!r} in the response")
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise TemplateError(f"{expression}: no element [{index}] in the response")
            value = value[int(index)]
    if position - 1 != len(rest):
        raise TemplateError(f"{expression}: not a supported path (use $.a.b or $[0].c)")
    return value


def capture(expression: str, *, body: Any, headers: Mapping[str, str], status: int | None) -> Any:
    """Read one ``save`` capture from a response."""
    if expression == "status":
        return status
    if expression.startswith("header:"):
        wanted = expression[len("header:") :].strip().lower()
        for name, value in headers.items():
            if name.lower() == wanted:
                return value
        raise TemplateError(f"{expression}: the response has no {wanted} header")
    return json_path(body, expression)
