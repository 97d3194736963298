"""Reporters: separate consumers of :class:`harness.results.RunResult` (terminal, JUnit, JSON,
HTML).

Every reporter passes what it writes through :func:`redact`, so a token never reaches a report
even when a server echoes one back in a body or header.
"""

from __future__ import annotations

import re
from typing import Any

from harness.results import MASK

#: A JWT (three base64url segments, the first starting with the encoded '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)?\s*)([^\s\"',}]+)"
)


def redact(text: str) -> str:
    """``text`` with every JWT and every Authorization value masked."""
    text = _JWT.sub(MASK, text)
    return _AUTH_HEADER.sub(lambda m: m.group(1) + MASK if m.group(2) != MASK else m.group(0), text)


def redact_tree(value: Any) -> Any:
    """A copy of a JSON-ready tree with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value
