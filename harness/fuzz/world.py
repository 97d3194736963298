"""The objects a fuzz run works on: pools to read and update, fresh objects to delete.

Fuzzing read, update and delete operations on random uuids only ever tests the 404 branch.
:class:`FuzzWorld` creates, through the target's own create operations, a small pool of
klanten, contactmomenten, verzoeken and one object of every relation resource (the
create -> read -> update chains), and for every delete example a fresh object of its own
(create -> delete), so deletes neither hit 404 nor cascade into the pool. Documents and zaken
come from the mock DRC, through :class:`~harness.drc_control.DrcControl`, because the KIC
fetches them.
Everything it created is deleted again by :meth:`FuzzWorld.cleanup`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.drc_control import DrcControl, documents_path, zaken_path
from harness.transport import request_deadline

log = logging.getLogger(__name__)

#: A valid RSIN (nine digits passing the 11-proef) used for the pool's own objects.
POOL_RSIN = "111222333"
#: Where the pool's medewerker and subject URLs point; a KIC never fetches these.
EXAMPLE_MEDEWERKER = "https://medewerkers.example.com/api/v1/medewerkers/1"
EXAMPLE_SUBJECT = "https://personen.example.com/api/v1/personen/1"
EXAMPLE_PRODUCT = "https://producten.example.com/api/v1/producten/1"
#: A URL nothing listens on: used for documents and zaken when no mock DRC is configured,
#: so a KIC's remote fetch fails at once instead of resolving random host names.
UNREACHABLE_ROOT = "http://127.0.0.1:9"

#: Resource collection -> operationId prefix.
SINGULAR = {
    "klanten": "klant",
    "contactmomenten": "contactmoment",
    "verzoeken": "verzoek",
    "objectcontactmomenten": "objectcontactmoment",
    "objectverzoeken": "objectverzoek",
    "verzoekinformatieobjecten": "verzoekinformatieobject",
    "verzoekcontactmomenten": "verzoekcontactmoment",
    "verzoekproducten": "verzoekproduct",
}
#: The zaak relation resources and the name of their own KIC object in a zaak link.
ZAAK_RELATIONS = {"objectcontactmomenten": "contactmoment", "objectverzoeken": "verzoek"}
#: The Zaken API list a KIC consults before deleting an object relation (mock DRC path).
ZAAK_LINK_LISTS = {
    "objectcontactmomenten": zaken_path("zaakcontactmomenten"),
    "objectverzoeken": zaken_path("zaakverzoeken"),
}


def relative_path(url: str) -> str:
    """``<collection>/<uuid>`` of an object URL, to be resolved against the API root."""
    collection, _, uuid_ = url.rstrip("/").rpartition("/")
    return f"{collection.rsplit('/', 1)[-1]}/{uuid_}"


@dataclass
class FuzzWorld:
    """Creates and remembers the objects the fuzz phase needs on the target and the DRC.

    ``kic`` is an httpx client whose base URL is the target's API root and which sends the
    harness's Authorization; it should come from :func:`harness.transport.new_client` (see
    :mod:`.wire`): every set-up request is then bounded, as a whole, by ``timeout`` seconds.
    ``drc`` controls the mock DRC (None: no DRC configured); it raises
    :class:`~harness.drc_control.DrcControlError` naming the call when the DRC fails.
    ``on_status`` receives (operationId, status) of every set-up request.
    """

    kic: httpx.Client
    drc: DrcControl | None
    on_status: Callable[[str, int], None] = lambda op, status: None
    timeout: float = 30.0
    pools: dict[str, list[str]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=itertools.count)

    def _request(
        self, client: httpx.Client, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        # httpx's timeouts apply per read, so a target dripping its headers would hold the
        # set-up for as long as it likes; the deadline bounds the request, body included.
        with request_deadline(self.timeout):
            return client.request(method, url, **kwargs)

    # -- the target ------------------------------------------------------------------------

    def create(self, collection: str, body: dict[str, Any]) -> str | None:
        """POST ``body`` to ``collection``; the new object's URL, or None when refused."""
        try:
            response = self._request(self.kic, "POST", collection, json=body)
        except httpx.HTTPError as exc:
            log.warning("fuzz set-up: POST %s failed: %s", collection, exc)
            return None
        self.on_status(f"{SINGULAR[collection]}_create", response.status_code)
        if response.status_code not in (200, 201):
            log.info(
                "fuzz set-up: POST %s -> %s %s",
                collection,
                response.status_code,
                response.text[:300],
            )
            return None
        try:
            url = response.json().get("url")
        except (ValueError, AttributeError):
            url = None
        url = url or response.headers.get("Location")
        if url:
            self.created.append(url)
        return url

    def pool(self, collection: str) -> list[str]:
        """URLs of existing objects of ``collection`` to read and update (may be empty)."""
        return self.pools.get(collection, [])

    def build_pools(self) -> None:
        """Create two klanten, contactmomenten and verzoeken, and one of every relation."""
        for n in range(2):
            self._add("klanten", self.create("klanten", klant_body(n)))
        klanten = self.pool("klanten")
        for n in range(2):
            klant = klanten[n % len(klanten)] if klanten else None
            self._add("contactmomenten", self.create("contactmomenten", contactmoment_body(klant)))
            self._add("verzoeken", self.create("verzoeken", verzoek_body(klant)))
        for collection in ZAAK_RELATIONS.keys() | {
            "verzoekinformatieobjecten",
            "verzoekcontactmomenten",
            "verzoekproducten",
        }:
            self._add(collection, self.fresh(collection))

    def _add(self, collection: str, url: str | None) -> None:
        if url:
            self.pools.setdefault(collection, []).append(url)

    def fresh(self, collection: str) -> str | None:
        """Create a new object of ``collection`` that nothing else refers to (for a delete)."""
        if collection == "klanten":
            return self.create("klanten", klant_body(next(self._counter)))
        if collection == "contactmomenten":
            return self.create("contactmomenten", contactmoment_body(None))
        if collection == "verzoeken":
            return self.create("verzoeken", verzoek_body(None))
        verzoek = self._first("verzoeken")
        contactmoment = self._first("contactmomenten")
        if collection == "verzoekproducten" and verzoek:
            return self.create(collection, {"verzoek": verzoek, "product": EXAMPLE_PRODUCT})
        if collection == "verzoekinformatieobjecten" and verzoek:
            body = {"verzoek": verzoek, "informatieobject": self.document()}
            return self.create(collection, body)
        if collection == "verzoekcontactmomenten" and contactmoment:
            # A verzoek of its own keeps the (verzoek, contactmoment) pair unique.
            own = self.create("verzoeken", verzoek_body(None))
            if own:
                return self.create(collection, {"verzoek": own, "contactmoment": contactmoment})
            return None
        if collection in ZAAK_RELATIONS:
            own_kind = ZAAK_RELATIONS[collection]
            own = contactmoment if own_kind == "contactmoment" else verzoek
            if own:
                body = {own_kind: own, "object": self.zaak(**{own_kind: own}), "objectType": "zaak"}
                return self.create(collection, body)
        return None

    def _first(self, collection: str) -> str | None:
        pool = self.pool(collection)
        return pool[0] if pool else None

    def cleanup(self) -> None:
        """Delete what the fuzz phase created; main resources first (their deletes cascade)."""
        main = ("/klanten/", "/contactmomenten/", "/verzoeken/")
        first = [u for u in reversed(self.created) if any(m in u for m in main)]
        seen = set(first)
        for url in first + [u for u in reversed(self.created) if u not in seen]:
            with contextlib.suppress(httpx.HTTPError):
                # By path under the target's root: the token never goes to a host the
                # target merely named in a response.
                self._request(self.kic, "DELETE", relative_path(url))
        self.created.clear()

    # -- the mock DRC ------------------------------------------------------------------------

    def document(self) -> str:
        """URL of a new document in the mock DRC (an unreachable URL without one)."""
        if self.drc is not None:
            return str(self.drc.create_document()["url"])
        return f"{UNREACHABLE_ROOT}{documents_path('enkelvoudiginformatieobjecten')}/{_uuid()}"

    def zaak(self, *, contactmoment: str | None = None, verzoek: str | None = None) -> str:
        """URL of a new zaak in the mock DRC's Zaken API that links the given KIC object."""
        if self.drc is not None:
            url = str(self.drc.create_zaak()["url"])
            link = {"zaak": url}
            link.update({"contactmoment": contactmoment} if contactmoment else {})
            link.update({"verzoek": verzoek} if verzoek else {})
            self.drc.link_zaak(link)
            return url
        return f"{UNREACHABLE_ROOT}{zaken_path('zaken')}/{_uuid()}"

    def forget_zaak_link_once(self, collection: str) -> int | None:
        """Make the mock's Zaken API list no relation once, so a KIC may delete its half.

        The mock cannot unlink; a one-shot fault rule answering ``200 []`` on the relation
        list stands in for the ZRC having removed the canonical relation. Returns the rule id
        (to remove it if the KIC did not consume it) or None without a DRC.
        """
        if self.drc is None or collection not in ZAAK_LINK_LISTS:
            return None
        rule = {
            "method": "GET",
            "path": ZAAK_LINK_LISTS[collection],
            "status": 200,
            "body": [],
            "count": 1,
        }
        return int(self.drc.add_fault(rule)["id"])

    def remove_fault(self, rule_id: int | None) -> None:
        if self.drc is not None and rule_id is not None:
            self.drc.remove_fault(rule_id)


def klant_body(n: int) -> dict[str, Any]:
    return {
        "subjectType": "natuurlijk_persoon",
        "subject": EXAMPLE_SUBJECT,
        "voornaam": f"Fuzz {n}",
        "achternaam": "Pool",
    }


def contactmoment_body(klant: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bronorganisatie": POOL_RSIN,
        "medewerker": EXAMPLE_MEDEWERKER,
        "kanaal": "telefoon",
    }
    if klant:
        body["klant"] = klant
    return body


def verzoek_body(klant: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"bronorganisatie": POOL_RSIN, "status": "ontvangen"}
    if klant:
        body["klant"] = klant
    return body


def _uuid() -> str:
    return str(uuid.uuid4())
