"""Create, update and delete of every KIC resource: storage, uniqueness, remote checks, cascades.

The Falcon layer calls only this module for writes. Verzoekinformatieobjecten are always
handed to :class:`~reference_kic.drc_sync.DrcSync`, also when a klant or verzoek delete
cascades to them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid as uuid_module
from typing import Any

from zgw.errors import ApiError, InvalidParam, ValidationFailed

from .config import KicConfig
from .drc_sync import DrcSync
from .kinds import Kind
from .preparation import Preparer
from .reconcile import Reconciler
from .remote import RemoteApis
from .rules import NON_FIELD
from .storage import Store
from .zaak_relations import ZaakRelations

DOCUMENT_KEYS = ("url", "titel")
_PAIR_COLUMNS = {
    "objectcontactmomenten": ("contactmoment", "object"),
    "objectverzoeken": ("verzoek", "object"),
    "verzoekcontactmomenten": ("verzoek", "contactmoment"),
}


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Niet gevonden.")


def _unique_error(columns: tuple[str, ...]) -> ValidationFailed:
    return ValidationFailed(
        [
            InvalidParam(
                NON_FIELD, "unique", f"De velden {', '.join(columns)} moeten een unieke set zijn."
            )
        ]
    )


class KicService:
    """Writes of the reference KIC; ``base`` arguments are the request's API root URL."""

    def __init__(self, config: KicConfig, store: Store, remote: RemoteApis) -> None:
        self.config = config
        self.store = store
        self.defects = config.defects
        self.preparer = Preparer(store)
        self.drc = DrcSync(store, remote, config.defects, config.public_base_url)
        self.zaken = ZaakRelations(remote)
        self.remote = remote
        self.reconciler: Reconciler | None = None  # set by create_app when it runs one

    # -- create -----------------------------------------------------------------------------
    def create(self, kind: Kind, body: Any, base: str) -> dict[str, Any]:
        data = self.preparer.prepare(kind, body)
        collection = kind.collection
        if collection == "verzoekinformatieobjecten":
            self.remote.fetch_resource(data["informatieobject"], "informatieobject", DOCUMENT_KEYS)
            return self.drc.create(data, f"{base}/verzoeken/{data['verzoek']}")
        if collection in ("objectcontactmomenten", "objectverzoeken"):
            own_field = "contactmoment" if collection == "objectcontactmomenten" else "verzoek"
            own_url = f"{base}/{kind.links[own_field]}/{data[own_field]}"
            self.zaken.check_object(data["object"])
            self._check_pair_unique(self.store.conn, collection, data)
            self.zaken.require_relation(collection, data["object"], own_url)
        row_uuid = str(uuid_module.uuid4())
        with self.store.write() as conn:
            if collection == "verzoeken":
                self._prepare_identificatie(conn, data, row_uuid)
            if collection in _PAIR_COLUMNS:
                self._check_pair_unique(conn, collection, data)
            Store.insert(conn, collection, row_uuid, data)
        return {**data, "uuid": row_uuid}

    # -- update -----------------------------------------------------------------------------
    def update(self, kind: Kind, uuid: str, body: Any, *, partial: bool) -> dict[str, Any]:
        stored = self.store.get(kind.collection, uuid)
        if stored is None:
            raise not_found()
        data = self.preparer.prepare(kind, body, stored, partial=partial)
        with self.store.write() as conn:
            if kind.collection == "verzoeken":
                self._check_identificatie_unique(conn, data, uuid)
            Store.update(conn, kind.collection, uuid, data)
        return {**data, "uuid": uuid}

    # -- delete -----------------------------------------------------------------------------
    def delete(self, kind: Kind, uuid: str, base: str) -> None:
        collection = kind.collection
        stored = self.store.get(collection, uuid)
        if stored is None:
            raise not_found()
        if collection == "verzoekinformatieobjecten":
            self.drc.delete([stored])
        elif collection in ("klanten", "verzoeken"):
            self.drc.delete(
                self._vios_below(collection, uuid),
                finish=lambda conn: Store.delete(conn, collection, uuid),
            )
        else:
            if collection in ("objectcontactmomenten", "objectverzoeken"):
                own_field = "contactmoment" if collection == "objectcontactmomenten" else "verzoek"
                own_url = f"{base}/{kind.links[own_field]}/{stored[own_field]}"
                self.zaken.require_no_relation(collection, stored["object"], own_url)
            with self.store.write() as conn:
                Store.delete(conn, collection, uuid)

    def _vios_below(self, collection: str, uuid: str) -> list[dict[str, Any]]:
        # Hidden rows too: they wait for the reconciler to remove them (and their mirrors);
        # the cascade does that now instead of tripping over them.
        if collection == "verzoeken":
            return self.store.list(
                "verzoekinformatieobjecten", {"verzoek": uuid}, include_hidden=True
            )
        rows = self.store.conn.execute(
            "SELECT v.uuid, v.data FROM verzoekinformatieobjecten v "
            "JOIN verzoeken z ON z.uuid = v.verzoek WHERE z.klant = ? "
            "ORDER BY v.seq",
            (uuid,),
        ).fetchall()
        return [{**json.loads(data), "uuid": row_uuid} for row_uuid, data in rows]

    # -- uniqueness and identificatie -------------------------------------------------------
    def _check_pair_unique(
        self, conn: sqlite3.Connection, collection: str, data: dict[str, Any]
    ) -> None:
        if collection == "verzoekcontactmomenten" and "uniqueness-not-enforced" in self.defects:
            return
        first, second = _PAIR_COLUMNS[collection]
        row = conn.execute(
            f"SELECT 1 FROM {collection} WHERE {first} = ? AND {second} = ?",
            (data[first], data[second]),
        ).fetchone()
        if row:
            raise _unique_error((first, second))

    def _prepare_identificatie(
        self, conn: sqlite3.Connection, data: dict[str, Any], row_uuid: str
    ) -> None:
        if not data.get("identificatie"):
            data["identificatie"] = self._next_identificatie(conn, data["interactiedatum"][:4])
        self._check_identificatie_unique(conn, data, row_uuid)

    def _check_identificatie_unique(
        self, conn: sqlite3.Connection, data: dict[str, Any], row_uuid: str
    ) -> None:
        if "uniqueness-not-enforced" in self.defects:
            return
        duplicate = conn.execute(
            "SELECT 1 FROM verzoeken WHERE identificatie = ? AND bronorganisatie = ? AND uuid != ?",
            (data["identificatie"], data["bronorganisatie"], row_uuid),
        ).fetchone()
        if duplicate:
            raise ValidationFailed(
                [
                    InvalidParam(
                        "identificatie",
                        "identificatie-niet-uniek",
                        "Deze identificatie bestaat al voor deze bronorganisatie.",
                    )
                ]
            )

    @staticmethod
    def _next_identificatie(conn: sqlite3.Connection, year: str) -> str:
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
