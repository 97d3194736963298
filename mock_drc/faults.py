"""Fault rules: make the next N requests matching method + path prefix fail on purpose.

Kinds: ``status`` (answer that status, with ``body`` if given, instead of handling),
``delay`` (sleep, then handle normally, or answer the status if one is also set) and
``drop`` (close the connection without any HTTP response). Every matching request uses up
one of the rule's ``count``; an exhausted rule disappears.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from mock_drc.fields import FieldErrors
from zgw.errors import InvalidParam

MAX_DELAY_SECONDS = 300.0


@dataclass
class FaultRule:
    """One rule; ``count`` is how many more requests it applies to."""

    id: int
    method: str
    path: str
    status: int | None
    body: Any
    delay: float
    drop: bool
    count: int

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and path.startswith(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "body": copy.deepcopy(self.body),
            "delay": self.delay,
            "drop": self.drop,
            "count": self.count,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_rule(
    method: Any, path: Any, status: Any, delay: Any, drop: Any, count: Any
) -> list[InvalidParam]:
    """Every problem with a fault rule's settings (empty when it is valid)."""
    problems: list[InvalidParam] = []

    def fail(name: str, reason: str) -> None:
        problems.append(InvalidParam(name, "invalid", reason))

    if not isinstance(method, str) or not method.strip():
        fail("method", "method must be an HTTP method such as POST, or '*' for any.")
    if not isinstance(path, str) or not path.startswith("/"):
        fail("path", "path must be a request path prefix starting with '/'.")
    if status is not None and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        fail("status", "status must be an integer HTTP status between 100 and 599.")
    if not _is_number(delay) or not 0 <= delay <= MAX_DELAY_SECONDS:
        fail("delay", f"delay must be a number of seconds between 0 and {MAX_DELAY_SECONDS:g}.")
    if not isinstance(drop, bool):
        fail("drop", "drop must be true or false.")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        fail("count", "count must be a whole number of at least 1.")
    if not problems:
        if drop and status is not None:
            fail("nonFieldErrors", "A fault either drops the connection or answers a status.")
        elif not drop and status is None and not delay:
            fail("nonFieldErrors", "A fault needs a status, a delay or drop: true.")
    return problems


class FaultBook:
    """The active fault rules, thread-safe; ``take`` consumes one use of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
        count: int = 1,
    ) -> dict[str, Any]:
        problems = validate_rule(method, path, status, delay, drop, count)
        if problems:
            raise FieldErrors(problems)
        with self._lock:
            rule = FaultRule(
                self._next_id,
                method.strip().upper(),
                path,
                status,
                copy.deepcopy(body),
                float(delay),
                drop,
                count,
            )
            self._next_id += 1
            self._rules.append(rule)
            return rule.as_dict()

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """Use up one application of the first rule matching the request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method.upper(), path):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule.as_dict()
        return None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    self._rules.remove(rule)
                    return True
        return False

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
