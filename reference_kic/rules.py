"""Business rules of the Klantinteracties API as small named functions.

Each rule takes the already type-checked data and returns the :class:`InvalidParam` problems
it finds (an empty list when the rule holds); callers collect them into one ValidatieFout.
"""

from __future__ import annotations

import re
from typing import Any

from zgw.errors import InvalidParam

NON_FIELD = "nonFieldErrors"
#: The reference names an A-nummer pattern failure with its own code.
PATTERN_CODES = {"inpANummer": "a-nummer-incorrect-format"}
_ASCII_WORD = re.compile(r"^[A-Za-z0-9_-]*\Z")


def rsin_problems(value: Any, name: str, *, allow_blank: bool = False) -> list[InvalidParam]:
    """RSIN/BSN: nine digits passing the 11-proef (codes only-digits, invalid-length, invalid)."""
    if not isinstance(value, str) or (allow_blank and value == ""):
        return []
    if not value.isdigit() or not value.isascii():
        return [InvalidParam(name, "only-digits", "Voer een getal in. Alleen cijfers toegestaan.")]
    if len(value) != 9:
        return [InvalidParam(name, "invalid-length", "Waarde moet 9 tekens lang zijn.")]
    weighted = sum(
        int(digit) * weight for digit, weight in zip(value[:8], range(9, 1, -1), strict=True)
    )
    if (weighted - int(value[8])) % 11 != 0:
        return [InvalidParam(name, "invalid", "Onjuist RSIN nummer.")]
    return []


def externe_identificatie_problems(value: Any) -> list[InvalidParam]:
    """externeIdentificatie: ASCII letters, digits, ``_`` and ``-`` only (no diacritics)."""
    if isinstance(value, str) and not _ASCII_WORD.match(value):
        return [
            InvalidParam(
                "externeIdentificatie",
                "invalid",
                "Voer een waarde in zonder spaties of diakrieten (alleen A-Z, 0-9, _ en -).",
            )
        ]
    return []


def _one_of(first: Any, second: Any, code: str, names: str) -> list[InvalidParam]:
    """An either/or rule: ``first`` or ``second`` must be given; ``names`` says which two."""
    if first or second:
        return []
    return [InvalidParam(NON_FIELD, code, f"{names} moet gegeven zijn.")]


def subject_problems(subject: Any, identificatie: Any) -> list[InvalidParam]:
    """A klant needs a ``subject`` URL or a non-empty ``subjectIdentificatie``."""
    return _one_of(subject, identificatie, "invalid-subject", "subject of subjectIdentificatie")


def medewerker_problems(medewerker: Any, identificatie: Any) -> list[InvalidParam]:
    """A contactmoment needs a ``medewerker`` URL or a ``medewerkerIdentificatie``."""
    return _one_of(
        medewerker, identificatie, "invalid-medewerker", "medewerker of medewerkerIdentificatie"
    )


def product_problems(product: Any, code: Any) -> list[InvalidParam]:
    """A verzoekproduct needs a ``product`` URL or a ``productIdentificatie.code``."""
    return _one_of(product, code, "invalid-product", "product of productIdentificatie")


def immutable_problems(name: str, stored: Any, new: Any) -> list[InvalidParam]:
    """A field that may not change once set (klant.subjectType, verzoek.identificatie)."""
    if new != stored:
        return [
            InvalidParam(name, "wijzigen-niet-toegelaten", f"{name} mag niet gewijzigd worden.")
        ]
    return []


def unique_problem(columns: tuple[str, ...], note: str = "") -> InvalidParam:
    """Another row already has these values in ``columns`` (``note`` is added to the reason)."""
    reason = f"De velden {', '.join(columns)} moeten een unieke set zijn."
    return InvalidParam(NON_FIELD, "unique", reason + (f" {note}" if note else ""))
