"""EnkelvoudigInformatieObject bodies: validating given fields and filling in the rest.

Documents must be acceptable to a KIC that checks them against the DRC 1.0.1 *and* 1.5.0
response schemas, so ``inhoud``, ``bestandsomvang`` and ``status`` are never null, and the
fields whose nullability differs between versions are left out unless given.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Any

from mock_drc.fields import FieldChecker, FieldErrors

VERTROUWELIJKHEIDAANDUIDINGEN = frozenset(
    {
        "openbaar",
        "beperkt_openbaar",
        "intern",
        "zaakvertrouwelijk",
        "vertrouwelijk",
        "confidentieel",
        "geheim",
        "zeer_geheim",
    }
)
STATUSES = frozenset(
    {"", "in_bewerking", "concept", "definitief", "ter_vaststelling", "vastgesteld", "gearchiveerd"}
)
DEFAULT_INFORMATIEOBJECTTYPE = (
    "https://catalogi.example.com/catalogi/api/v1/informatieobjecttypen/"
    "b2a0c5d1-6f3e-4c1a-9a55-8f0f3f0f1a01"
)
DEFAULT_CONTENT = b"kic-conformance mock document\n"

# Server-managed fields: a trusted seed may set them, a client's POST may not.
READ_ONLY = frozenset(
    {"url", "versie", "beginRegistratie", "locked", "bestandsdelen", "bestandsomvang"}
)
# Fields whose shape differs between DRC versions: passed through from seeds unchecked.
PASS_THROUGH = frozenset(
    {
        "ontvangstdatum",
        "verzenddatum",
        "indicatieGebruiksrecht",
        "ondertekening",
        "integriteit",
        "verschijningsvorm",
        "inhoudIsVervallen",
    }
)
CHECKED = frozenset(
    {
        "identificatie",
        "bronorganisatie",
        "creatiedatum",
        "titel",
        "vertrouwelijkheidaanduiding",
        "auteur",
        "status",
        "formaat",
        "taal",
        "bestandsnaam",
        "inhoud",
        "link",
        "beschrijving",
        "informatieobjecttype",
        "trefwoorden",
    }
)


def seed_defaults(today: dt.date | None = None) -> dict[str, Any]:
    """The fields a seeded document gets when the caller does not give them."""
    return {
        "bronorganisatie": "000000000",
        "creatiedatum": (today or dt.date.today()).isoformat(),
        "titel": "Mock document",
        "auteur": "kic-conformance",
        "taal": "dut",
        "informatieobjecttype": DEFAULT_INFORMATIEOBJECTTYPE,
    }


def _check(fields: dict[str, Any], *, trusted: bool) -> FieldChecker:
    check = FieldChecker(fields)
    check.string("identificatie", max_length=40)
    check.string("bronorganisatie", required=True, max_length=9)
    check.date("creatiedatum", required=True)
    check.string("titel", required=True, max_length=200)
    check.choice("vertrouwelijkheidaanduiding", VERTROUWELIJKHEIDAANDUIDINGEN)
    check.string("auteur", required=True, max_length=200)
    check.choice("status", STATUSES)
    check.string("formaat", max_length=255)
    check.string("taal", required=True, max_length=3, min_length=3)
    check.string("bestandsnaam", max_length=255)
    check.url("link", max_length=200)
    check.string("beschrijving", max_length=1000)
    check.url("informatieobjecttype", required=True, max_length=200)
    check.string_list("trefwoorden", max_item_length=100)
    content = check.string("inhoud")
    if content:
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            check.fail("inhoud", "invalid", "inhoud must be base64-encoded content.")
    if trusted:
        check.unknown(CHECKED | READ_ONLY | PASS_THROUGH)
    return check


def build_document(
    fields: dict[str, Any], *, base_url: str, number: int, trusted: bool
) -> dict[str, Any]:
    """Validate ``fields`` and return a complete document served under ``base_url``.

    ``base_url`` is the documents collection URL; ``number`` makes the default identificatie
    unique. Untrusted (client) input ignores read-only fields and unknown fields like DRF does.
    Raises :class:`FieldErrors` naming every invalid field.
    """
    check = _check(fields, trusted=trusted)
    check.raise_if_invalid()
    given = {k: v for k, v in fields.items() if trusted or k in CHECKED}
    raw_content = given.pop("inhoud", None)
    content = base64.b64decode(raw_content) if raw_content else DEFAULT_CONTENT
    document_uuid = str(uuid.uuid4())
    url = f"{base_url.rstrip('/')}/{document_uuid}"
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    document: dict[str, Any] = {
        "url": url,
        "identificatie": f"DOCUMENT-{now.year}-{number:010d}",
        "bronorganisatie": "",
        "creatiedatum": "",
        "titel": "",
        "vertrouwelijkheidaanduiding": "openbaar",
        "auteur": "",
        "status": "",
        "formaat": "text/plain",
        "taal": "",
        "versie": 1,
        "beginRegistratie": now.isoformat().replace("+00:00", "Z"),
        "bestandsnaam": "document.txt",
        "inhoud": f"{url}/download?versie=1",
        "bestandsomvang": len(content),
        "beschrijving": "",
        "informatieobjecttype": "",
        "locked": False,
        "bestandsdelen": [],
        "trefwoorden": [],
    }
    document.update(given)
    document["url"] = url
    return document


__all__ = ["FieldErrors", "build_document", "seed_defaults"]
