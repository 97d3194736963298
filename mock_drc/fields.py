"""Field checks shared by every body the mock DRC accepts, collecting ZGW invalidParams.

A :class:`FieldChecker` walks one JSON object and records every problem (name, code,
reason) the way a DRF serializer of a real DRC would, so one answer lists all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from zgw.errors import InvalidParam


class FieldErrors(ValueError):
    """Invalid fields given from Python or the control API; ``params`` lists them."""

    def __init__(self, params: Iterable[InvalidParam]) -> None:
        self.params = list(params)
        super().__init__(
            "; ".join(f"{p.name}: {p.reason} ({p.code})" for p in self.params) or "invalid"
        )


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an absolute http(s) URL, or None when it is one."""
    if any(ch.isspace() for ch in value):
        return "Enter a valid URL: it contains whitespace."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        return f"Enter a valid URL: {exc}."
    if parts.scheme not in ("http", "https"):
        return "Enter a valid URL: the scheme must be http or https."
    if not parts.hostname:
        return "Enter a valid URL: it names no host."
    return None


class FieldChecker:
    """Collects invalidParams for the fields of one JSON object."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.params: list[InvalidParam] = []

    def fail(self, name: str, code: str, reason: str) -> None:
        self.params.append(InvalidParam(name, code, reason))

    def has_errors_on(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        min_length: int = 0,
        blank: bool = True,
    ) -> str | None:
        """Check a string field; returns it when valid, else None."""
        if name not in self.data:
            if required:
                self.fail(name, "required", "Dit veld is vereist.")
            return None
        value = self.data[name]
        if value is None:
            self.fail(name, "null", "Dit veld mag niet leeg zijn.")
            return None
        if not isinstance(value, str):
            self.fail(name, "invalid", f"Expected a string, got {type(value).__name__}.")
            return None
        if not value and (required or not blank):
            self.fail(name, "blank", "Dit veld mag niet leeg zijn.")
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(
                name,
                "max_length",
                f"Zorg ervoor dat dit veld niet meer dan {max_length} karakters bevat.",
            )
            return None
        if value and len(value) < min_length:
            self.fail(
                name,
                "min_length",
                f"Zorg ervoor dat dit veld minimaal {min_length} karakters bevat.",
            )
            return None
        return value

    def url(self, name: str, *, required: bool = False, max_length: int = 1000) -> str | None:
        value = self.string(name, required=required, max_length=max_length, blank=not required)
        if not value:
            return value
        problem = url_problem(value)
        if problem:
            self.fail(name, "invalid", problem)
            return None
        return value

    def choice(self, name: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        options = sorted(choices)
        if value is not None and value not in options:
            self.fail(
                name, "invalid_choice", f"{value!r} is geen geldige keuze; kies uit {options}."
            )
            return None
        return value

    def date(self, name: str, *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                self.fail(name, "invalid", f"{value!r} is geen datum in het formaat YYYY-MM-DD.")
                return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if name in self.data and not isinstance(value, bool):
            self.fail(name, "invalid", "Expected true or false.")
            return None
        return value

    def string_list(self, name: str, *, max_item_length: int) -> list[str] | None:
        value = self.data.get(name)
        if name not in self.data or value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "invalid", "Expected a list of strings.")
            return None
        if any(len(v) > max_item_length for v in value):
            self.fail(
                name, "max_length", f"Every item must be at most {max_item_length} characters."
            )
            return None
        return value

    def unknown(self, allowed: Iterable[str]) -> None:
        """Flag keys outside ``allowed`` (only for trusted seeds, where a typo is a bug)."""
        known = set(allowed)
        for name in sorted(set(self.data) - known):
            self.fail(name, "unknown-field", f"{name!r} is not a field the mock DRC knows.")

    def raise_if_invalid(self) -> None:
        if self.params:
            raise FieldErrors(self.params)


def require_object(data: Any, what: str) -> dict[str, Any]:
    """``data`` when it is a JSON object, else FieldErrors on nonFieldErrors."""
    if not isinstance(data, dict):
        raise FieldErrors(
            [
                InvalidParam(
                    "nonFieldErrors",
                    "invalid",
                    f"Invalid {what}: expected a JSON object, got {type(data).__name__}.",
                )
            ]
        )
    return data
