"""Where everything lives on one mock DRC server: the fixed URL layout."""

from __future__ import annotations

DOCUMENTS_ROOT = "/documenten/api/v1/"
ZAKEN_ROOT = "/zaken/api/v1/"
CONTROL_ROOT = "/_mock/"

DOCUMENTS_COLLECTION = DOCUMENTS_ROOT + "enkelvoudiginformatieobjecten"
MIRRORS_COLLECTION = DOCUMENTS_ROOT + "objectinformatieobjecten"
ZAKEN_COLLECTION = ZAKEN_ROOT + "zaken"
ZAAKCONTACTMOMENTEN_COLLECTION = ZAKEN_ROOT + "zaakcontactmomenten"
ZAAKVERZOEKEN_COLLECTION = ZAKEN_ROOT + "zaakverzoeken"

#: Paths that skip JSON content negotiation: the control API (curl-friendly) and the specs.
NEGOTIATION_EXEMPT = (CONTROL_ROOT, DOCUMENTS_ROOT + "schema/", ZAKEN_ROOT + "schema/")


def join(base_url: str, path: str, *parts: str) -> str:
    """``base_url`` (scheme and host, maybe a path prefix) + an absolute ``path`` + parts."""
    url = base_url.rstrip("/") + path
    for part in parts:
        url = url.rstrip("/") + "/" + part
    return url
