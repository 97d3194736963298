"""Configuration of the mock DRC: which clients it trusts, strictness, call-back credentials."""

from __future__ import annotations

from dataclasses import dataclass, field

from zgw.jwt import Client

#: The version of the Documenten API the mock imitates; sent as ``API-version`` everywhere.
API_VERSION = "1.5.0"

#: Scopes a real DRC (and ZRC) grants; the mock checks them per operation.
DOCUMENTEN_LEZEN = "documenten.lezen"
DOCUMENTEN_AANMAKEN = "documenten.aanmaken"
DOCUMENTEN_VERWIJDEREN = "documenten.verwijderen"
ZAKEN_LEZEN = "zaken.lezen"
ALL_SCOPES = frozenset({DOCUMENTEN_LEZEN, DOCUMENTEN_AANMAKEN, DOCUMENTEN_VERWIJDEREN, ZAKEN_LEZEN})

#: The client the mock trusts when none is configured (``kic:kic-secret``, every scope).
DEFAULT_CLIENT = Client("kic", "kic-secret", ALL_SCOPES)

#: Object types a DRC 1.1.0+ accepts on objectinformatieobjecten.
DEFAULT_OBJECT_TYPES = frozenset({"besluit", "zaak", "verzoek"})


def _default_clients() -> dict[str, Client]:
    return {DEFAULT_CLIENT.client_id: DEFAULT_CLIENT}


@dataclass
class DrcConfig:
    """How one mock DRC behaves.

    ``clients`` are the JWT clients it accepts; a client configured with no scopes at all is
    treated as holding every scope (convenient for quick set-ups). ``strict`` turns on the
    call-back into the KIC on mirror create and delete. ``callback_credentials`` are the
    ``(client_id, secret)`` of the JWT the mock sends when it calls the KIC back (``None``:
    no Authorization header). ``public_base_url`` fixes the scheme and host of the URLs the
    mock hands out; ``None`` takes them from each request. ``callback_timeout`` bounds each
    call-back as a whole (connect, headers, body); ``body_timeout`` bounds the arrival of a
    request body where the WSGI server exposes the connection (gunicorn, wsgiref).
    """

    clients: dict[str, Client] = field(default_factory=_default_clients)
    accept_any_token: bool = False
    strict: bool = True
    callback_credentials: tuple[str, str] | None = ("mock-drc", "mock-drc-secret")
    public_base_url: str | None = None
    object_types: frozenset[str] = DEFAULT_OBJECT_TYPES
    callback_timeout: float = 10.0
    body_timeout: float = 10.0

    def summary(self) -> dict[str, object]:
        """A JSON-ready description without secrets, for ``GET /_mock/state``."""
        return {
            "strict": self.strict,
            "acceptAnyToken": self.accept_any_token,
            "clients": sorted(self.clients),
            "callbackClientId": self.callback_credentials[0] if self.callback_credentials else None,
            "publicBaseUrl": self.public_base_url,
            "objectTypes": sorted(self.object_types),
            "callbackTimeout": self.callback_timeout,
            "bodyTimeout": self.body_timeout,
            "apiVersion": API_VERSION,
        }
