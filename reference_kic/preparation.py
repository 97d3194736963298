"""Turning a request body into the stored form of a resource, enforcing every local rule.

Order follows the reference: field checks (types, lengths, enums, formats, local links, and
the kind's prepare hook: RSIN, immutable fields, ...) are collected together; only when they
pass do the either/or rules (the kind's rules hook) run on the merged result (new values over
stored ones, so an update cannot break a rule the create had to satisfy). Remote checks and
uniqueness belong to ``service``, which needs the database and the network.
"""

from __future__ import annotations

from typing import Any

from zgw.errors import InvalidParam, ValidationFailed

from .defects import Defects
from .kinds import Kind
from .resource_hooks import Change
from .shapes import defaults_for, spec_shaped
from .storage import Store
from .urls import parse_local
from .validation import now_utc

Errors = list[InvalidParam]


def new_defaults(kind: Kind) -> dict[str, Any]:
    """What a new object of ``kind`` holds before its body: the schema's defaults, and now as
    its ``interactiedatum`` (where it has one)."""
    defaults = defaults_for(kind.schema)
    if "interactiedatum" in defaults:
        defaults["interactiedatum"] = now_utc()
    return defaults


class Preparer:
    """Validates bodies for every kind against one store (for local links)."""

    def __init__(self, store: Store, defects: Defects | None = None) -> None:
        self.store = store
        self.defects = defects if defects is not None else Defects()

    def prepare(
        self, kind: Kind, body: Any, stored: dict[str, Any] | None = None, *, partial: bool = False
    ) -> dict[str, Any]:
        """The new stored form (without ``uuid``) or :class:`ValidationFailed`."""
        errors: Errors = []
        cleaned = kind.checker.check(body, "", errors, partial=partial)
        if not isinstance(body, dict) and self.defects.checked(errors):
            raise ValidationFailed(errors)
        self._resolve_links(kind, cleaned, errors)
        base = stored if stored is not None else new_defaults(kind)
        if kind.prepare is not None:
            kind.prepare(Change(kind, body, cleaned, base, stored is not None, errors))
        errors = self.defects.checked(errors)
        if errors:
            raise ValidationFailed(errors)
        merged = {k: v for k, v in base.items() if k != "uuid"}
        merged.update(cleaned)
        merged = spec_shaped(kind.schema, merged)
        if self.defects.offset_dropped:
            _drop_offsets(body, merged)
        checked = kind.rules is not None and not (
            stored is not None and self.defects.subject_rule_on_create_only
        )
        problems = kind.rules(merged) if checked and kind.rules is not None else []
        problems = self.defects.checked(problems)
        if problems:
            raise ValidationFailed(problems)
        return merged

    def _resolve_links(self, kind: Kind, cleaned: dict[str, Any], errors: Errors) -> None:
        for name, target in kind.links.items():
            if name not in cleaned:
                continue
            value = cleaned[name]
            if value in ("", None):
                if name in kind.nullable:
                    cleaned[name] = None
                else:
                    errors.append(InvalidParam(name, "null", "Dit veld mag niet leeg zijn."))
                    del cleaned[name]
                continue
            parsed = parse_local(value)
            if parsed is None:
                code, reason = "no_match", "Ongeldige hyperlink - Geen overeenkomende URL."
            elif parsed[0] != target:
                code, reason = "incorrect_match", "Ongeldige hyperlink - Ongeldige URL."
            elif not self.store.exists(target, parsed[1]) and not (
                self.defects.link_existence_unchecked
            ):
                code, reason = "does_not_exist", "Ongeldige hyperlink - Object bestaat niet."
            else:
                cleaned[name] = parsed[1]
                continue
            errors.append(InvalidParam(name, code, reason))
            del cleaned[name]


def _drop_offsets(body: dict[str, Any], merged: dict[str, Any]) -> None:
    """Defect offset-dropped: a date-time sent with an offset keeps its clock time as UTC."""
    for name, value in body.items():
        dated = isinstance(value, str) and len(value) > 19 and value[10] == "T"
        if dated and name in merged and value[19:].lstrip(".0123456789")[:1] in ("+", "-"):
            merged[name] = value[:19] + "Z"
