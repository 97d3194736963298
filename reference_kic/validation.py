"""Request-body validation compiled from openapi.yaml schemas, speaking the reference's codes.

A schema is compiled once into a tree of small checkers; checking a body walks that tree and
collects every :class:`InvalidParam` with a camelCase dotted name (``onderwerpLinks.0``,
``subjectIdentificatie.verblijfsadres.aoaHuisnummer``) and the code the VNG reference uses
(``required``, ``null``, ``blank``, ``max_length``, ``invalid_choice``, ``max_value`` ...).
Unknown and read-only fields are dropped, as the reference does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from zgw.datetimes import parse_instant
from zgw.errors import InvalidParam, ValidationFailed

from .spec import resolve

Errors = list[InvalidParam]
Checker = Callable[[Any, str, Errors], Any]

#: Marker for "the value failed validation"; never stored.
INVALID = object()

# Django's URLValidator in spirit: a scheme, a host with a TLD (or localhost, or an IP), an
# optional port and path; no whitespace anywhere.
_URL_RE = re.compile(
    r"^(?:https?|ftps?)://"
    r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    r"(?:"
    r"(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}"
    r"|\[[0-9a-f:.]+\]"
    r"|localhost"
    r"|(?:[a-z\u00a1-\uffff0-9](?:[a-z\u00a1-\uffff0-9-]{0,61}[a-z\u00a1-\uffff0-9])?"
    r"(?:\.(?!-)[a-z\u00a1-\uffff0-9-]{1,63}(?<!-))*"
    r"\.(?!-)(?:[a-z\u00a1-\uffff-]{2,63}|xn--[a-z0-9]{1,59})(?<!-)\.?)"
    r")"
    r"(?::\d{1,5})?"
    r"(?:[/?#]\S*)?\Z",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9a-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z",
    re.IGNORECASE,
)


def is_url(value: str) -> bool:
    """True when ``value`` is an absolute URL a Django URLValidator would accept."""
    return len(value) <= 10_000 and bool(_URL_RE.match(value))


def format_datetime(value: datetime) -> str:
    """UTC with a ``Z``; microseconds only when non-zero (as the reference renders them)."""
    value = value.astimezone(timezone.utc)
    # strftime's %Y does not zero-pad years before 1000 on every platform.
    text = f"{value.year:04d}-{value:%m-%dT%H:%M:%S}"
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def now_utc() -> str:
    """The current moment, formatted like every stored date-time."""
    return format_datetime(datetime.now(timezone.utc))


def _string_checker(schema: dict[str, Any], required: bool, pattern_code: str) -> Checker:
    enum = schema.get("enum")
    max_length = schema.get("maxLength")
    min_length = schema.get("minLength", 0)
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    fmt = schema.get("format")

    def check(value: Any, name: str, errors: Errors) -> Any:
        if not isinstance(value, str):
            errors.append(InvalidParam(name, "invalid", "Not a valid string."))
            return INVALID
        if value == "":
            # The reference's blank choice ("" for an optional enum, e.g. initiatiefnemer) is
            # its way to say "unset"; a nullable enum (subjectType) says that with null.
            if enum is not None and (required or schema.get("nullable")):
                errors.append(InvalidParam(name, "invalid_choice", '"" is not a valid choice.'))
                return INVALID
            if enum is None and min_length >= 1:
                errors.append(InvalidParam(name, "blank", "This field may not be blank."))
                return INVALID
            return value
        if max_length is not None and len(value) > max_length:
            errors.append(
                InvalidParam(
                    name,
                    "max_length",
                    f"Ensure this field has no more than {max_length} characters.",
                )
            )
            return INVALID
        if len(value) < min_length:
            errors.append(
                InvalidParam(
                    name, "min_length", f"Ensure this field has at least {min_length} characters."
                )
            )
            return INVALID
        if enum is not None and value not in enum:
            errors.append(
                InvalidParam(name, "invalid_choice", f'"{value[:60]}" is not a valid choice.')
            )
            return INVALID
        if pattern is not None and not pattern.search(value):
            errors.append(
                InvalidParam(name, pattern_code, f"Value does not match {pattern.pattern}.")
            )
            return INVALID
        if fmt == "uri" and not is_url(value):
            errors.append(InvalidParam(name, "invalid", "Enter a valid URL."))
            return INVALID
        if fmt == "email" and not _EMAIL_RE.match(value):
            errors.append(InvalidParam(name, "invalid", "Enter a valid email address."))
            return INVALID
        if fmt == "date-time":
            parsed = parse_instant(value)
            if parsed is None:
                errors.append(
                    InvalidParam(name, "invalid", "Datetime has wrong format (ISO 8601 expected).")
                )
                return INVALID
            return format_datetime(parsed)
        return value

    return check


def _integer_checker(schema: dict[str, Any]) -> Checker:
    maximum = schema.get("maximum")
    minimum = schema.get("minimum")

    def check(value: Any, name: str, errors: Errors) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(InvalidParam(name, "invalid", "A valid integer is required."))
            return INVALID
        if maximum is not None and value > maximum:
            errors.append(
                InvalidParam(name, "max_value", f"Ensure this value is at most {maximum}.")
            )
            return INVALID
        if minimum is not None and value < minimum:
            errors.append(
                InvalidParam(name, "min_value", f"Ensure this value is at least {minimum}.")
            )
            return INVALID
        return value

    return check


def _array_checker(schema: dict[str, Any], pattern_codes: dict[str, str]) -> Checker:
    item_check = compile_checker(resolve(schema.get("items", {})), True, "", pattern_codes)

    def check(value: Any, name: str, errors: Errors) -> Any:
        if not isinstance(value, list):
            errors.append(InvalidParam(name, "not_a_list", "Expected a list of items."))
            return INVALID
        before = len(errors)
        cleaned = [item_check(item, f"{name}.{i}", errors) for i, item in enumerate(value)]
        return INVALID if len(errors) > before else cleaned

    return check


def compile_checker(
    schema: dict[str, Any], required: bool, field_name: str, pattern_codes: dict[str, str]
) -> Checker:
    """Compile one property schema into a checker returning the cleaned value or INVALID."""
    schema = resolve(schema)
    nullable = bool(schema.get("nullable"))
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "string":
        inner = _string_checker(schema, required, pattern_codes.get(field_name, "invalid"))
    elif kind == "integer":
        inner = _integer_checker(schema)
    elif kind == "array":
        inner = _array_checker(schema, pattern_codes)
    elif kind == "object":
        inner = ObjectChecker(schema, pattern_codes).check_nested
    else:

        def inner(value: Any, name: str, errors: Errors) -> Any:
            return value

    def check(value: Any, name: str, errors: Errors) -> Any:
        if value is None:
            if nullable:
                return None
            errors.append(InvalidParam(name, "null", "This field may not be null."))
            return INVALID
        return inner(value, name, errors)

    return check


class ObjectChecker:
    """Checks a JSON object against an object schema; keeps only writable, known properties."""

    def __init__(
        self,
        schema: dict[str, Any],
        pattern_codes: dict[str, str] | None = None,
        exclude: frozenset[str] = frozenset(),
        links: frozenset[str] = frozenset(),
    ) -> None:
        schema = resolve(schema)
        pattern_codes = pattern_codes or {}
        self.required = frozenset(schema.get("required", ())) - exclude
        self.fields: dict[str, Checker] = {}
        for name, prop in schema.get("properties", {}).items():
            prop = resolve(prop)
            if prop.get("readOnly") or name in exclude:
                continue
            if name in links:
                # Local links may be relative paths; their resolution checks them instead.
                prop = {k: v for k, v in prop.items() if k != "format"}
            self.fields[name] = compile_checker(prop, name in self.required, name, pattern_codes)

    def check(self, value: Any, prefix: str, errors: Errors, *, partial: bool) -> dict[str, Any]:
        """Cleaned known fields of ``value``; problems are appended to ``errors``."""
        if not isinstance(value, dict):
            errors.append(
                InvalidParam(
                    prefix or "nonFieldErrors",
                    "invalid",
                    f"Invalid data. Expected a dictionary, but got {type(value).__name__}.",
                )
            )
            return {}
        cleaned: dict[str, Any] = {}
        for name, checker in self.fields.items():
            full_name = f"{prefix}.{name}" if prefix else name
            if name not in value:
                if name in self.required and not partial:
                    errors.append(InvalidParam(full_name, "required", "This field is required."))
                continue
            result = checker(value[name], full_name, errors)
            if result is not INVALID:
                cleaned[name] = result
        return cleaned

    def check_nested(self, value: Any, name: str, errors: Errors) -> Any:
        before = len(errors)
        cleaned = self.check(value, name, errors, partial=False)
        return INVALID if len(errors) > before else cleaned

    def validate(self, body: Any, *, partial: bool = False) -> dict[str, Any]:
        """Cleaned body, or :class:`ValidationFailed` listing every problem."""
        errors: Errors = []
        cleaned = self.check(body, "", errors, partial=partial)
        if errors:
            raise ValidationFailed(errors)
        return cleaned
