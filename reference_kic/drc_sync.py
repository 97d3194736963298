"""kic-001: the one place where verzoekinformatieobjecten are created and deleted.

A verzoekinformatieobject (VIO) exists twice: as a row here and as an objectinformatieobject
("mirror") in the DRC that serves the document. A DRC checks the KIC while it is being
written to: on create it lists the KIC's VIOs and wants to see the relation, on delete it
wants NOT to see it any more. Hence the order of every step below:

create: commit the row -> POST the mirror -> (DRC refused) delete the row, answer 400.
delete: hide the rows (committed: every worker stops listing them) -> delete the mirrors ->
        delete the rows (plus the cascading parent) in one transaction -> (DRC refused) un-hide,
        put back the mirrors already removed, answer 400.

:meth:`DrcSync.create` and :meth:`DrcSync.delete` are the only code paths that insert or
remove VIO rows (the table's foreign key refuses a cascade that would bypass them).
"""

from __future__ import annotations

import logging
import sqlite3
import uuid as uuid_module
from collections.abc import Callable
from typing import Any

from zgw.errors import ApiError, InvalidParam, ValidationFailed

from .remote import RemoteApis, RemoteUnavailable, api_root_before
from .rules import NON_FIELD
from .storage import Store

log = logging.getLogger(__name__)

TABLE = "verzoekinformatieobjecten"
DOCUMENT_RESOURCE = "enkelvoudiginformatieobjecten"


class MirrorFailed(Exception):
    """The DRC refused or could not be reached; the message says which and the status."""


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class DrcSync:
    """Creates and deletes VIOs together with their DRC mirrors."""

    def __init__(self, store: Store, remote: RemoteApis, defects: frozenset[str]) -> None:
        self.store = store
        self.remote = remote
        self.defects = defects

    # -- create -----------------------------------------------------------------------------
    def create(self, data: dict[str, Any], verzoek_url: str) -> dict[str, Any]:
        """Store the VIO, mirror it in the DRC, and return the stored row."""
        row = {**data, "mirrorObject": verzoek_url, "uuid": str(uuid_module.uuid4())}
        stored = {k: v for k, v in row.items() if k != "uuid"}
        if "mirror-before-commit" in self.defects:
            self._mirror_or_refuse(row)
            self._insert(row["uuid"], stored)
            return row
        self._insert(row["uuid"], stored)
        if "mirror-skipped" in self.defects:
            return row
        try:
            self._mirror_or_refuse(row)
        except ValidationFailed:
            with self.store.write() as conn:
                Store.delete(conn, TABLE, row["uuid"])
            raise
        return row

    def _insert(self, uuid: str, stored: dict[str, Any]) -> None:
        with self.store.write() as conn:
            if "uniqueness-not-enforced" not in self.defects:
                duplicate = conn.execute(
                    f"SELECT 1 FROM {TABLE} WHERE verzoek = ? AND informatieobject = ?",
                    (stored["verzoek"], stored["informatieobject"]),
                ).fetchone()
                if duplicate:
                    raise ValidationFailed(
                        [
                            InvalidParam(
                                NON_FIELD,
                                "unique",
                                "De velden verzoek, informatieobject moeten een unieke set zijn.",
                            )
                        ]
                    )
            Store.insert(conn, TABLE, uuid, stored)

    def _mirror_or_refuse(self, row: dict[str, Any]) -> None:
        try:
            self._post_mirror(row)
        except MirrorFailed as exc:
            raise ValidationFailed(
                [
                    InvalidParam(
                        NON_FIELD,
                        "invalid",
                        f"Could not create remote relation: {exc}. The relation was not kept.",
                    )
                ]
            ) from None

    def _post_mirror(self, row: dict[str, Any]) -> None:
        root = self._drc_root(row["informatieobject"])
        object_type = "zaak" if "mirror-wrong-objecttype" in self.defects else "verzoek"
        body = {
            "informatieobject": row["informatieobject"],
            "object": row["mirrorObject"],
            "objectType": object_type,
        }
        response = self._call("POST", f"{root}objectinformatieobjecten", json=body)
        if response.status_code != 201:
            raise MirrorFailed(
                f"the DRC refused the mirror with HTTP {response.status_code} "
                f"({_excerpt(response.text)})"
            )

    # -- delete -----------------------------------------------------------------------------
    def delete(
        self,
        rows: list[dict[str, Any]],
        finish: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Delete ``rows`` and their mirrors; ``finish`` deletes a cascading parent.

        Either everything is deleted, or (the DRC refused) nothing is and the rows are
        visible again; then :class:`ValidationFailed` says why.
        """
        uuids = [row["uuid"] for row in rows]
        hide = uuids and "delete-mirror-while-visible" not in self.defects
        if hide:
            with self.store.write() as conn:
                Store.set_hidden(conn, TABLE, uuids, True)
        removed: list[dict[str, Any]] = []
        try:
            if "delete-mirror-skipped" not in self.defects:
                for row in rows:
                    self._delete_mirror(row)
                    removed.append(row)
        except MirrorFailed as exc:
            self._restore(uuids if hide else [], removed)
            raise ValidationFailed(
                [
                    InvalidParam(
                        NON_FIELD,
                        "invalid",
                        f"Could not delete remote relation: {exc}. Nothing was deleted.",
                    )
                ]
            ) from None
        try:
            with self.store.write() as conn:
                for uuid in uuids:
                    Store.delete(conn, TABLE, uuid)
                if finish is not None:
                    finish(conn)
        except sqlite3.IntegrityError:
            # A new VIO was linked to the parent meanwhile; its mirror must not be orphaned.
            self._restore(uuids if hide else [], removed)
            raise ApiError(
                409,
                "conflict",
                "A verzoekinformatieobject was added while deleting; nothing was deleted. Retry.",
            ) from None

    def _delete_mirror(self, row: dict[str, Any]) -> None:
        root = self._drc_root(row["informatieobject"])
        if "delete-wrong-mirror" in self.defects:
            params = {"object": row["mirrorObject"]}
        else:
            params = {"object": row["mirrorObject"], "informatieobject": row["informatieobject"]}
        response = self._call("GET", f"{root}objectinformatieobjecten", params=params)
        if response.status_code != 200:
            raise MirrorFailed(
                f"the DRC refused to list mirrors with HTTP {response.status_code} "
                f"({_excerpt(response.text)})"
            )
        try:
            mirrors = response.json()
        except ValueError:
            raise MirrorFailed("the DRC listed mirrors in something that is not JSON") from None
        if isinstance(mirrors, dict) and isinstance(mirrors.get("results"), list):
            mirrors = mirrors["results"]
        if not isinstance(mirrors, list):
            raise MirrorFailed("the DRC's mirror list is not a JSON array")
        if "delete-wrong-mirror" in self.defects:
            mirrors = mirrors[:1]
        # An empty list means the mirror is already gone (deleted earlier, or a previous
        # attempt got that far): the goal "no mirror left" holds, so deleting the row is safe.
        for mirror in mirrors:
            url = mirror.get("url") if isinstance(mirror, dict) else None
            if not isinstance(url, str):
                raise MirrorFailed("a mirror in the DRC's list has no url")
            response = self._call("DELETE", url)
            # 404: someone removed it between our list and delete; the goal holds, see above.
            if response.status_code not in (204, 404):
                raise MirrorFailed(
                    f"the DRC refused to delete the mirror with HTTP {response.status_code} "
                    f"({_excerpt(response.text)})"
                )

    def _restore(self, hidden_uuids: list[str], removed: list[dict[str, Any]]) -> None:
        if hidden_uuids:
            with self.store.write() as conn:
                Store.set_hidden(conn, TABLE, hidden_uuids, False)
        for row in removed:
            try:
                self._post_mirror(row)
            except MirrorFailed as exc:
                log.error("could not restore the DRC mirror of VIO %s: %s", row["uuid"], exc)

    # -- helpers ----------------------------------------------------------------------------
    def _drc_root(self, document_url: str) -> str:
        root = api_root_before(document_url, DOCUMENT_RESOURCE)
        if root is None:
            raise MirrorFailed(
                f"cannot derive the DRC API root from {document_url} "
                f"(expected .../{DOCUMENT_RESOURCE}/<uuid>)"
            )
        return root

    def _call(self, method: str, url: str, **kwargs: Any):  # -> httpx.Response
        try:
            return self.remote.request(method, url, **kwargs)
        except RemoteUnavailable as exc:
            raise MirrorFailed(f"the DRC was unreachable ({exc})") from None
