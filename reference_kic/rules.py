"""Business rules of the Klantinteracties API as small named functions.

Each rule takes the already type-checked data and returns the :class:`InvalidParam` problems
it finds (an empty list when the rule holds); callers collect them into one ValidatieFout.
"""

from __future__ import annotations

import re
from typing import Any

from zgw.errors import InvalidParam

NON_FIELD = "nonFieldErrors"
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


def subject_problems(subject: Any, identificatie: Any) -> list[InvalidParam]:
    """A klant needs a ``subject`` URL or a non-empty ``subjectIdentificatie``."""
    if subject or identificatie:
        return []
    return [
        InvalidParam(
            NON_FIELD, "invalid-subject", "subject of subjectIdentificatie moet gegeven zijn."
        )
    ]


def medewerker_problems(medewerker: Any, identificatie: Any) -> list[InvalidParam]:
    """A contactmoment needs a ``medewerker`` URL or a ``medewerkerIdentificatie``."""
    if medewerker or identificatie:
        return []
    return [
        InvalidParam(
            NON_FIELD,
            "invalid-medewerker",
            "medewerker of medewerkerIdentificatie moet gegeven zijn.",
        )
    ]


def product_problems(product: Any, code: Any) -> list[InvalidParam]:
    """A verzoekproduct needs a ``product`` URL or a ``productIdentificatie.code``."""
    if product or code:
        return []
    return [
        InvalidParam(
            NON_FIELD, "invalid-product", "product of productIdentificatie moet gegeven zijn."
        )
    ]


def immutable_problems(name: str, stored: Any, new: Any) -> list[InvalidParam]:
    """A field that may not change once set (klant.subjectType, verzoek.identificatie)."""
    if new != stored:
        return [
            InvalidParam(name, "wijzigen-niet-toegelaten", f"{name} mag niet gewijzigd worden.")
        ]
    return []
