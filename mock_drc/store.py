"""The mock DRC's state: documents, mirrors, zaken and their links, journal and faults.

:class:`DrcState` is thread-safe (one lock for the records; the journal and the fault book
have their own) and returns copies, so a caller can never change the state behind the
server's back. The harness uses it directly in-process; the control API exposes the same
operations over HTTP.

:meth:`DrcState.reset` is atomic with respect to requests in flight: every reset starts a new
*generation*, a request notes the generation it started in, and every write and journal entry
of a request is checked against it under the state's lock. What a request that started before
a reset would write after it is refused (:class:`StaleRequest`, a 503 to the client) and its
journal entry is dropped, so nothing from before a reset survives it.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from mock_drc import documents, zaken
from mock_drc.faults import FaultBook
from mock_drc.journal import DEFAULT_LIMIT, Journal
from mock_drc.paths import (
    DOCUMENTS_COLLECTION,
    MIRRORS_COLLECTION,
    ZAKEN_COLLECTION,
    ZAKEN_ROOT,
    join,
)
from zgw.errors import ApiError


class NoBaseUrl(ValueError):
    """A URL was needed before the state learned its server's public base URL."""


class StaleRequest(ApiError):
    """A request that started before a reset tried to change the state after it."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "reset-during-request",
            "The mock DRC was reset while this request was in flight; nothing it did was kept.",
        )


class DrcState:
    """Everything one mock DRC remembers. ``base_url`` is its server's public base URL
    (scheme + host, no trailing slash), set by the app or the testing handle once known."""

    def __init__(self, base_url: str | None = None, *, journal_limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.RLock()
        self.base_url = base_url.rstrip("/") if base_url else None
        self._documents: dict[str, dict[str, Any]] = {}
        self._mirrors: dict[str, dict[str, Any]] = {}
        self._zaken: dict[str, dict[str, Any]] = {}
        self._links: list[dict[str, Any]] = []
        self._counter = 0
        self._journal = Journal(journal_limit)
        self._faults = FaultBook()
        self._generation = 0

    # -- generations (see the module docstring) -------------------------------------------
    @property
    def generation(self) -> int:
        """The number of resets so far; a request notes it when it starts."""
        return self._generation

    def _still(self, generation: int | None) -> None:
        """Refuse a write of a request from before the last reset (call with the lock held)."""
        if generation is not None and generation != self._generation:
            raise StaleRequest()

    # -- base URL ---------------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        """Remember the public base URL if none is known yet (first come wins)."""
        with self._lock:
            if self.base_url is None:
                self.base_url = base_url.rstrip("/")

    def _base(self, base_url: str | None) -> str:
        base = base_url or self.base_url
        if not base:
            raise NoBaseUrl(
                "The mock DRC does not know its public base URL yet: pass base_url=..., or "
                "start it (running_mock_drc) or give DrcConfig(public_base_url=...)."
            )
        return base.rstrip("/")

    def _next_number(self) -> int:
        self._counter += 1
        return self._counter

    # -- documents --------------------------------------------------------------------------
    def create_document(self, *, base_url: str | None = None, **fields: Any) -> dict[str, Any]:
        """Seed a document; unspecified required fields get defaults. Raises FieldErrors."""
        return self.seed_document(fields, base_url=base_url)

    def seed_document(
        self,
        fields: dict[str, Any],
        *,
        base_url: str | None = None,
        generation: int | None = None,
    ) -> dict[str, Any]:
        """Like :meth:`create_document`, with the fields as one dict (any key allowed)."""
        merged = {**documents.seed_defaults(), **fields}
        return self.add_document(merged, base_url=base_url, trusted=True, generation=generation)

    def add_document(
        self,
        fields: dict[str, Any],
        *,
        base_url: str | None = None,
        trusted: bool = False,
        generation: int | None = None,
    ) -> dict[str, Any]:
        """Store a document built from ``fields`` exactly as given (no defaults).

        ``generation``: the one the request started in (see the module docstring); every
        writing method takes it, None (Python callers) means the current one.
        """
        collection = join(self._base(base_url), DOCUMENTS_COLLECTION)
        with self._lock:
            self._still(generation)
            document = documents.build_document(
                fields, base_url=collection, number=self._next_number(), trusted=trusted
            )
            self._documents[document_uuid(document["url"])] = document
            return copy.deepcopy(document)

    def documents(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._documents.values()))

    def document(self, document_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._documents.get(document_id)
            return copy.deepcopy(found) if found else None

    # -- objectinformatieobjecten (mirrors) -----------------------------------------------
    def add_mirror_if_unique(
        self,
        informatieobject: str,
        object_url: str,
        object_type: str,
        *,
        base_url: str | None = None,
        generation: int | None = None,
    ) -> dict[str, Any] | None:
        """Store a mirror unless (informatieobject, object) exists; None when it does."""
        with self._lock:
            self._still(generation)
            if self.find_mirrors(object_url=object_url, informatieobject=informatieobject):
                return None
            mirror_uuid = str(uuid.uuid4())
            mirror = {
                "url": join(self._base(base_url), MIRRORS_COLLECTION, mirror_uuid),
                "informatieobject": informatieobject,
                "object": object_url,
                "objectType": object_type,
            }
            self._mirrors[mirror_uuid] = mirror
            return copy.deepcopy(mirror)

    def find_mirrors(
        self, *, object_url: str | None = None, informatieobject: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(
                [
                    m
                    for m in self._mirrors.values()
                    if (object_url is None or m["object"] == object_url)
                    and (informatieobject is None or m["informatieobject"] == informatieobject)
                ]
            )

    def mirrors(self) -> list[dict[str, Any]]:
        return self.find_mirrors()

    def mirror(self, mirror_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._mirrors.get(mirror_id)
            return copy.deepcopy(found) if found else None

    def remove_mirror(self, mirror_id: str, *, generation: int | None = None) -> bool:
        with self._lock:
            self._still(generation)
            return self._mirrors.pop(mirror_id, None) is not None

    # -- zaken ------------------------------------------------------------------------------
    def create_zaak(self, *, base_url: str | None = None, **fields: Any) -> dict[str, Any]:
        """Seed a zaak (ZRC 1.0 shape); given fields override the defaults."""
        return self.seed_zaak(fields, base_url=base_url)

    def seed_zaak(
        self,
        fields: dict[str, Any],
        *,
        base_url: str | None = None,
        generation: int | None = None,
    ) -> dict[str, Any]:
        """Like :meth:`create_zaak`, with the fields as one dict (any key allowed)."""
        collection = join(self._base(base_url), ZAKEN_COLLECTION)
        with self._lock:
            self._still(generation)
            zaak = zaken.build_zaak(fields, collection_url=collection, number=self._next_number())
            self._zaken[zaak["uuid"]] = zaak
            return copy.deepcopy(zaak)

    def zaken(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._zaken.values()))

    def zaak(self, zaak_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._zaken.get(zaak_id)
            return copy.deepcopy(found) if found else None

    def link_zaak(
        self,
        zaak_url: str,
        contactmoment: str | None = None,
        verzoek: str | None = None,
        *,
        base_url: str | None = None,
        generation: int | None = None,
    ) -> dict[str, Any]:
        """Record that a zaak links a contactmoment or a verzoek (exactly one), so the
        zaakcontactmomenten / zaakverzoeken lists return it."""
        link = zaken.build_link(
            zaak_url,
            contactmoment=contactmoment,
            verzoek=verzoek,
            zaken_root_url=join(self._base(base_url), ZAKEN_ROOT),
        )
        with self._lock:
            self._still(generation)
            self._links.append(link)
            return copy.deepcopy(link)

    def unlink_zaak(
        self,
        zaak_url: str,
        contactmoment: str | None = None,
        verzoek: str | None = None,
        *,
        generation: int | None = None,
    ) -> list[dict[str, Any]]:
        """Forget the links of a zaak to a contactmoment or a verzoek (exactly one); returns
        the removed links (none is fine: unlinking is idempotent)."""
        zaken.check_link(zaak_url, contactmoment=contactmoment, verzoek=verzoek)
        kind, other = ("contactmoment", contactmoment) if contactmoment else ("verzoek", verzoek)
        with self._lock:
            self._still(generation)
            removed = [
                link for link in self._links if link["zaak"] == zaak_url and link.get(kind) == other
            ]
            self._links = [link for link in self._links if link not in removed]
            return copy.deepcopy(removed)

    def links(
        self, kind: str | None = None, *, zaak: str | None = None, other: str | None = None
    ) -> list[dict[str, Any]]:
        """Links of ``kind`` ("contactmoment" or "verzoek", None = all) filtered exactly on
        ``zaak`` and on the contactmoment/verzoek URL ``other``."""
        with self._lock:
            return copy.deepcopy(
                [
                    link
                    for link in self._links
                    if (kind is None or kind in link)
                    and (zaak is None or link["zaak"] == zaak)
                    and (other is None or (kind is not None and link[kind] == other))
                ]
            )

    # -- journal and faults -----------------------------------------------------------------
    def record(
        self, entry: dict[str, Any], *, generation: int | None = None
    ) -> dict[str, Any] | None:
        """Journal ``entry``; dropped (None) when its request started before a reset."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return None
            return self._journal.record(entry)

    def journal(
        self,
        method: str | None = None,
        path: str | None = None,
        path_contains: str | None = None,
        since_id: int | None = None,
        mentions: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries matching every given filter (see :meth:`Journal.entries`)."""
        return self._journal.entries(method, path, path_contains, since_id, mentions)

    def clear_journal(self) -> None:
        self._journal.clear()

    def add_fault(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
        count: int = 1,
        generation: int | None = None,
    ) -> dict[str, Any]:
        """Add a fault rule (see :mod:`mock_drc.faults`); raises FieldErrors when invalid."""
        with self._lock:
            self._still(generation)
            return self._faults.add(
                method, path, status=status, body=body, delay=delay, drop=drop, count=count
            )

    def take_fault(
        self, method: str, path: str, *, generation: int | None = None
    ) -> dict[str, Any] | None:
        """Use up the first fault rule matching the request, unless it is from before a reset."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return None
            return self._faults.take(method, path)

    def faults(self) -> list[dict[str, Any]]:
        return self._faults.all()

    def remove_fault(self, fault_id: int) -> bool:
        return self._faults.remove(fault_id)

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Forget documents, mirrors, zaken, links, the journal and the faults, and refuse
        whatever requests still in flight would write or journal later."""
        with self._lock:
            self._generation += 1
            self._documents.clear()
            self._mirrors.clear()
            self._zaken.clear()
            self._links.clear()
            self._journal.clear()
            self._faults.clear()

    def snapshot(self) -> dict[str, Any]:
        """Documents, mirrors, zaken, links and faults in one consistent JSON-ready view."""
        with self._lock:
            return {
                "baseUrl": self.base_url,
                "documents": self.documents(),
                "mirrors": self.mirrors(),
                "zaken": self.zaken(),
                "links": self.links(),
                "faults": self.faults(),
            }


def document_uuid(url: str) -> str:
    """The uuid at the end of a document (or any resource) URL."""
    return url.rstrip("/").rsplit("/", 1)[-1]
