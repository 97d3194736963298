"""What some resources do beyond their schema: the hooks their ``Kind`` carries.

- ``prepare`` hooks run while a body becomes its stored form, after the field checks and
  before the either/or rules (see preparation.py); they see one :class:`Change`.
- ``rules`` hooks check the merged result (new values over stored ones).
- ``assign`` hooks fill in, inside the write transaction, a value that depends on other rows.
- field renderers give a response field that is stored in another form.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zgw.errors import InvalidParam

from . import rules
from .shapes import merge_nested, spec_shaped, with_defaults
from .spec import resolve

if TYPE_CHECKING:
    from .kinds import Kind

#: The column (and stored key) holding ``productIdentificatie.code`` of a verzoekproduct.
PRODUCT_CODE = "productCode"


@dataclass
class Change:
    """A request body on its way to storage, as a prepare hook sees it."""

    kind: Kind
    body: dict[str, Any]  # as sent
    cleaned: dict[str, Any]  # the checked fields; hooks may replace, add or remove values
    base: dict[str, Any]  # the stored row (update) or the defaults (create)
    is_update: bool
    errors: list[InvalidParam]  # hooks append what they refuse


PrepareHook = Callable[[Change], None]
RulesHook = Callable[[dict[str, Any]], list[InvalidParam]]
AssignHook = Callable[[sqlite3.Connection, dict[str, Any]], None]
#: A stored row -> the value of one response field; None leaves the key out.
FieldRenderer = Callable[[dict[str, Any]], Any]


# -- klanten ----------------------------------------------------------------------------------
def prepare_klant(change: Change) -> None:
    """subjectType is immutable; subjectIdentificatie takes the shape its subjectType gives."""
    body, cleaned, base, errors = change.body, change.cleaned, change.base, change.errors
    stored_type = base.get("subjectType")
    if change.is_update and "subjectType" in cleaned:
        errors.extend(rules.immutable_problems("subjectType", stored_type, cleaned["subjectType"]))
    subject_type = cleaned.get("subjectType", stored_type)
    if "subjectIdentificatie" not in body:
        return
    raw = body["subjectIdentificatie"]
    if raw is None:
        errors.append(InvalidParam("subjectIdentificatie", "null", "Dit veld mag niet leeg zijn."))
        return
    variant = (subject_type, "subjectIdentificatie") if isinstance(subject_type, str) else None
    checker = change.kind.variant_checkers.get(variant) if variant else None
    if checker is None:
        return  # without a (valid) type there is no shape: the identificatie is ignored
    before = len(errors)
    identificatie = checker.check(raw, "subjectIdentificatie", errors, partial=True)
    for key in ("inpBsn", "innNnpId"):
        errors.extend(
            rules.rsin_problems(
                identificatie.get(key), f"subjectIdentificatie.{key}", allow_blank=True
            )
        )
    if len(errors) > before or not identificatie:
        return
    merged = merge_nested(base.get("subjectIdentificatie"), identificatie)
    schema = change.kind.variants[subject_type]["subjectIdentificatie"]
    cleaned["subjectIdentificatie"] = spec_shaped(schema, with_defaults(schema, merged))


def klant_rules(data: dict[str, Any]) -> list[InvalidParam]:
    return rules.subject_problems(data.get("subject"), data.get("subjectIdentificatie"))


def render_subject_identificatie(row: dict[str, Any]) -> Any:
    """Only a klant with a subjectType has a subjectIdentificatie (its shape comes from it)."""
    return row.get("subjectIdentificatie") if row.get("subjectType") is not None else None


# -- contactmomenten ----------------------------------------------------------------------------
def prepare_contactmoment(change: Change) -> None:
    """An RSIN bronorganisatie; medewerkerIdentificatie merges into the stored one."""
    cleaned, base = change.cleaned, change.base
    if "bronorganisatie" in cleaned:
        change.errors.extend(rules.rsin_problems(cleaned["bronorganisatie"], "bronorganisatie"))
    if "medewerkerIdentificatie" in cleaned:
        new = cleaned["medewerkerIdentificatie"]
        if new is None:
            # null does not remove a stored medewerkerIdentificatie (reference behaviour)
            cleaned["medewerkerIdentificatie"] = base.get("medewerkerIdentificatie")
        else:
            merged = merge_nested(base.get("medewerkerIdentificatie"), new)
            schema = resolve(change.kind.schema["properties"]["medewerkerIdentificatie"])
            cleaned["medewerkerIdentificatie"] = with_defaults(schema, merged)


def contactmoment_rules(data: dict[str, Any]) -> list[InvalidParam]:
    return rules.medewerker_problems(data.get("medewerker"), data.get("medewerkerIdentificatie"))


# -- verzoeken ----------------------------------------------------------------------------------
def prepare_verzoek(change: Change) -> None:
    """An RSIN bronorganisatie, an ASCII externeIdentificatie, an immutable identificatie."""
    cleaned, errors = change.cleaned, change.errors
    if "bronorganisatie" in cleaned:
        errors.extend(rules.rsin_problems(cleaned["bronorganisatie"], "bronorganisatie"))
    errors.extend(rules.externe_identificatie_problems(cleaned.get("externeIdentificatie")))
    new_identificatie = cleaned.get("identificatie")
    if change.is_update and new_identificatie:
        errors.extend(
            rules.immutable_problems(
                "identificatie", change.base.get("identificatie"), new_identificatie
            )
        )
    elif change.is_update:
        # An empty identificatie on update keeps the stored one (no silent regeneration).
        cleaned.pop("identificatie", None)


def assign_identificatie(conn: sqlite3.Connection, data: dict[str, Any]) -> None:
    """A verzoek created without identificatie gets the next ``VERZOEK-<year>-<n>``."""
    if not data.get("identificatie"):
        data["identificatie"] = next_identificatie(conn, data["interactiedatum"][:4])


def next_identificatie(conn: sqlite3.Connection, year: str) -> str:
    """``VERZOEK-<year>-<n+1>``; n is the highest number of that year in any bronorganisatie.

    Runs inside the caller's BEGIN IMMEDIATE, so concurrent creates never get the same one.
    """
    prefix = f"VERZOEK-{year}-"
    pattern = re.compile(re.escape(prefix) + r"(\d{10})")
    highest = 0
    for (identificatie,) in conn.execute(
        "SELECT identificatie FROM verzoeken WHERE instr(identificatie, ?) > 0", (prefix,)
    ):
        for match in pattern.finditer(identificatie):
            highest = max(highest, int(match.group(1)))
    return f"{prefix}{highest + 1:010d}"


# -- verzoekproducten ---------------------------------------------------------------------------
def prepare_verzoekproduct(change: Change) -> None:
    """productIdentificatie is stored as its code alone (in the ``productCode`` column)."""
    identificatie = change.cleaned.pop("productIdentificatie", None)
    if identificatie is not None:
        change.cleaned[PRODUCT_CODE] = identificatie.get("code", "")
    change.base.setdefault(PRODUCT_CODE, "")
    change.base.pop("productIdentificatie", None)


def verzoekproduct_rules(data: dict[str, Any]) -> list[InvalidParam]:
    return rules.product_problems(data.get("product"), data.get(PRODUCT_CODE))


def render_product_identificatie(row: dict[str, Any]) -> Any:
    """An empty code is not a valid Product (minLength 1): then the key is left out."""
    return {"code": row[PRODUCT_CODE]} if row.get(PRODUCT_CODE) else None
