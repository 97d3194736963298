"""Variables of a running scenario: ``{name}`` templates and ``save`` captures.

:func:`render` fills ``{name}`` / ``{name|uuid}`` placeholders in a request or expectation tree
(a string that is exactly one placeholder keeps the variable's type; in a ``!regex`` pattern the
value is inserted regex-escaped, so it matches literally). :func:`capture` reads a value out of a
response: ``$.a.b``, ``$[0].url``, ``$``, ``header:Location`` or ``status``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def _apply_filter(value: Any, name: str, filt: str | None) -> Any:
    if filt is None:
        return value
    if filt == "uuid":
        if not isinstance(value, str):
            raise TemplateError(f"{{{name}|uuid}}: the value {value!r} is not a URL")
        return value.rstrip("/").rsplit("/", 1)[-1]
    raise TemplateError(f"unknown template filter |{filt} in {{{name}|{filt}}}")


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
    if isinstance(value, matchers.Contains):
        return matchers.Contains(tuple(render(list(value.items), variables)))
    if isinstance(value, matchers.Regex):
        pattern = render_regex(value.pattern, variables)
        return value if pattern == value.pattern else matchers.Regex(pattern)
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
