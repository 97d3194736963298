"""Zaak and zaak-link bodies for the few Zaken API endpoints the mock serves.

A KIC validates the ``object`` of objectcontactmomenten/objectverzoeken by reading the zaak
and checking its shape, then lists ``zaakcontactmomenten``/``zaakverzoeken``; these builders
give it a full Zaak (ZRC 1.0 field set) and the link rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from mock_drc.fields import FieldChecker

DEFAULT_ZAAKTYPE = (
    "https://catalogi.example.com/catalogi/api/v1/zaaktypen/4f4b8d5e-2c7a-4b1f-8a7e-3e5f0d9c2b10"
)
ZAAK_FIELDS = frozenset(
    {
        "identificatie",
        "bronorganisatie",
        "omschrijving",
        "toelichting",
        "zaaktype",
        "registratiedatum",
        "verantwoordelijkeOrganisatie",
        "startdatum",
        "einddatum",
        "einddatumGepland",
        "uiterlijkeEinddatumAfdoening",
        "publicatiedatum",
        "communicatiekanaal",
        "vertrouwelijkheidaanduiding",
        "betalingsindicatie",
        "archiefstatus",
        "archiefnominatie",
    }
)


def build_zaak(fields: dict[str, Any], *, collection_url: str, number: int) -> dict[str, Any]:
    """Validate seed ``fields`` and return a complete zaak under ``collection_url``."""
    check = FieldChecker(fields)
    check.string("identificatie", max_length=40)
    check.string("bronorganisatie", max_length=9)
    check.string("omschrijving", max_length=80)
    check.url("zaaktype", max_length=1000)
    check.date("startdatum")
    check.string("verantwoordelijkeOrganisatie", max_length=9)
    check.unknown(ZAAK_FIELDS)
    check.raise_if_invalid()
    today = dt.date.today().isoformat()
    zaak_uuid = str(uuid.uuid4())
    zaak: dict[str, Any] = {
        "url": f"{collection_url.rstrip('/')}/{zaak_uuid}",
        "uuid": zaak_uuid,
        "identificatie": f"ZAAK-{dt.date.today().year}-{number:010d}",
        "bronorganisatie": "000000000",
        "omschrijving": "Mock zaak",
        "toelichting": "",
        "zaaktype": DEFAULT_ZAAKTYPE,
        "registratiedatum": today,
        "verantwoordelijkeOrganisatie": "000000000",
        "startdatum": today,
        "einddatum": None,
        "einddatumGepland": None,
        "uiterlijkeEinddatumAfdoening": None,
        "publicatiedatum": None,
        "communicatiekanaal": "",
        "productenOfDiensten": [],
        "vertrouwelijkheidaanduiding": "openbaar",
        "betalingsindicatie": "",
        "betalingsindicatieWeergave": "",
        "laatsteBetaaldatum": None,
        "zaakgeometrie": None,
        "verlenging": None,
        "opschorting": {"indicatie": False, "reden": ""},
        "selectielijstklasse": "",
        "hoofdzaak": None,
        "deelzaken": [],
        "relevanteAndereZaken": [],
        "eigenschappen": [],
        "status": None,
        "kenmerken": [],
        "archiefnominatie": "",
        "archiefstatus": "nog_te_archiveren",
        "archiefactiedatum": None,
        "resultaat": None,
    }
    zaak.update(fields)
    return zaak


def check_link(zaak_url: Any, *, contactmoment: Any, verzoek: Any) -> None:
    """Raise FieldErrors unless ``zaak_url`` and exactly one of the other two are URLs."""
    check = FieldChecker({"zaak": zaak_url, "contactmoment": contactmoment, "verzoek": verzoek})
    check.url("zaak", required=True)
    if (contactmoment is None) == (verzoek is None):
        check.fail("nonFieldErrors", "invalid", "Give exactly one of contactmoment and verzoek.")
    elif contactmoment is not None:
        check.url("contactmoment", required=True)
    else:
        check.url("verzoek", required=True)
    check.raise_if_invalid()


def build_link(
    zaak_url: str, *, contactmoment: str | None, verzoek: str | None, zaken_root_url: str
) -> dict[str, Any]:
    """Validate and return a zaakcontactmoment or zaakverzoek row (exactly one of the two)."""
    check_link(zaak_url, contactmoment=contactmoment, verzoek=verzoek)
    link_uuid = str(uuid.uuid4())
    if contactmoment is not None:
        collection, other = "zaakcontactmomenten", {"contactmoment": contactmoment}
    else:
        collection, other = "zaakverzoeken", {"verzoek": verzoek}
    return {
        "url": f"{zaken_root_url.rstrip('/')}/{collection}/{link_uuid}",
        "uuid": link_uuid,
        "zaak": zaak_url,
        **other,
    }
