"""Create, update and delete of every KIC resource: storage, uniqueness, remote checks, cascades.

The Falcon layer calls only this module for writes. What differs per resource is data on its
:class:`~reference_kic.kinds.Kind`. Rows mirrored in the DRC (verzoekinformatieobjecten) are
always handed to :class:`~reference_kic.drc_sync.DrcSync`, also when deleting a klant or
verzoek cascades to them.
"""

from __future__ import annotations

import sqlite3
import uuid as uuid_module
from typing import Any

from zgw.errors import ApiError, ValidationFailed

from .config import KicConfig
from .drc_sync import DrcSync, settle_time
from .kinds import MIRRORED, Kind, link_chain
from .preparation import Preparer, new_defaults
from .remote import RemoteApis
from .shapes import spec_shaped
from .storage import Store
from .urls import parse_local, resource_url
from .zaak_relations import ZaakRelation, ZaakRelations


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Niet gevonden.")


class KicService:
    """Writes of the reference KIC; ``base`` arguments are the request's API root URL."""

    def __init__(self, config: KicConfig, store: Store, remote: RemoteApis) -> None:
        self.config = config
        self.store = store
        self.defects = config.defects
        self.preparer = Preparer(store, config.defects)
        self.drc = DrcSync(
            store,
            remote,
            config.defects,
            config.public_base_url,
            settle=settle_time(config.http_timeout),
        )
        self.zaken = ZaakRelations(remote)

    # -- create -----------------------------------------------------------------------------
    def create(self, kind: Kind, body: Any, base: str) -> dict[str, Any]:
        try:
            return self._create(kind, body, base)
        except ValidationFailed:
            if self.defects.refused_create_stored:
                self._store_refused(kind, body)
            raise

    def _create(self, kind: Kind, body: Any, base: str) -> dict[str, Any]:
        data = self.preparer.prepare(kind, body)
        if kind.drc_mirrored:
            return self.drc.create(data, base)
        relation = kind.zaak_relation
        if relation is not None:
            self.zaken.check_object(data["object"])
            self._check_unique(self.store.conn, kind, data)
            own_url = self._own_url(kind, relation, data, base)
            self.zaken.require_relation(relation, data["object"], own_url)
        row_uuid = str(uuid_module.uuid4())
        with self.store.write() as conn:
            if kind.assign is not None:
                kind.assign(conn, data)
            self._check_unique(conn, kind, data, row_uuid)
            Store.insert(conn, kind.collection, row_uuid, data)
        return {**data, "uuid": row_uuid}

    def _store_refused(self, kind: Kind, body: Any) -> None:
        """Defect refused-create-stored: keep what a create refused as invalid or as a
        duplicate sent, as it was sent (local links as their uuids), like a KIC that writes
        before it validates. A row the database itself refuses (a link to no object, a missing
        link) and a verzoekinformatieobject (its row would be mirrored) are not kept."""
        if kind.drc_mirrored or not isinstance(body, dict):
            return
        row = spec_shaped(kind.schema, new_defaults(kind))
        for name, value in body.items():
            if name not in kind.fields:
                continue
            if name in kind.links:
                parsed = parse_local(value) if isinstance(value, str) else None
                if parsed is None or parsed[0] != kind.links[name]:
                    continue
                value = parsed[1]
            row[name] = value
        for column in kind.columns:
            if column not in kind.links:
                row.setdefault(column, "")  # a column of its own is never NULL
        try:
            with self.store.write() as conn:
                if kind.assign is not None:
                    kind.assign(conn, row)
                Store.insert(conn, kind.collection, str(uuid_module.uuid4()), row)
        except (sqlite3.Error, TypeError, KeyError):
            pass  # not storable as sent: the defect keeps what it can

    # -- update -----------------------------------------------------------------------------
    def update(self, kind: Kind, uuid: str, body: Any, *, partial: bool) -> dict[str, Any]:
        stored = self.store.get(kind.collection, uuid)
        if stored is None:
            raise not_found()
        if partial and self.defects.patch_forgets_nested:
            stored = {k: v for k, v in stored.items() if not isinstance(v, dict)}
        data = self.preparer.prepare(kind, body, stored, partial=partial)
        with self.store.write() as conn:
            self._check_unique(conn, kind, data, uuid)
            if not self.defects.update_not_saved:
                Store.update(conn, kind.collection, uuid, data)
        return {**data, "uuid": uuid}

    # -- delete -----------------------------------------------------------------------------
    def delete(self, kind: Kind, uuid: str, base: str) -> None:
        collection = kind.collection
        stored = self.store.get(collection, uuid)
        if stored is None:
            raise not_found()
        if kind.drc_mirrored:
            self.drc.delete([stored])
            return
        chain = link_chain(MIRRORED.collection, collection)
        if chain is not None:
            # Hidden rows too: they wait for the reconciler to remove them (and their
            # mirrors); the cascade does that now instead of tripping over them.
            self.drc.delete(
                self.store.list_linked(MIRRORED.collection, chain, uuid),
                finish=lambda conn: Store.delete(conn, collection, uuid),
            )
            return
        relation = kind.zaak_relation
        if relation is not None:
            own_url = self._own_url(kind, relation, stored, base)
            self.zaken.require_no_relation(relation, stored["object"], own_url)
        with self.store.write() as conn:
            Store.delete(conn, collection, uuid)

    # -- helpers ----------------------------------------------------------------------------
    def _check_unique(
        self,
        conn: sqlite3.Connection,
        kind: Kind,
        data: dict[str, Any],
        row_uuid: str | None = None,
    ) -> None:
        """Refuse ``data`` when another row holds its values of the kind's unique columns."""
        unique = kind.unique
        if unique is None or not unique.enforced(self.defects):
            return
        values = {column: data[column] for column in unique.columns}
        duplicate = Store.duplicate(conn, kind.collection, values, row_uuid) is not None
        if duplicate and self.defects.checked([unique.problem()]):
            raise ValidationFailed([unique.problem()])

    @staticmethod
    def _own_url(kind: Kind, relation: ZaakRelation, data: dict[str, Any], base: str) -> str:
        """The URL of the KIC resource the relation names (its ``own_field``)."""
        return resource_url(base, kind.links[relation.own_field], data[relation.own_field])
