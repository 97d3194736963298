"""kic-001: the one place where verzoekinformatieobjecten are created and deleted.

A verzoekinformatieobject (VIO) exists twice: as a row here and as an objectinformatieobject
("mirror") in the DRC that serves the document. A DRC checks the KIC while it is being
written to: on create it lists the KIC's VIOs and wants to see the relation, on delete it
wants NOT to see it any more. Hence the order of every step below:

create: GET the document -> commit the row -> POST the mirror -> (DRC failed) hide the row,
        ask the DRC whether the mirror exists after all: yes -> show the row again, answer
        201; no -> delete the row, answer 400.
delete: hide the rows (committed: every worker stops listing them) -> delete the mirrors ->
        delete the rows (plus the cascading parent) in one transaction -> (DRC failed) show
        the rows again, put back mirrors that are gone, answer 409.

A delete may overtake a create (or a reconciler's repair) of the same row that is still under
way: the DRC may have called back before the row was hidden and store its mirror only after
the delete listed the mirrors. The delete then records the pair in ``vio_touched``; once the
DRC had time to finish, the reconciler lists the pair's mirrors again and removes any that no
row explains. A create whose verzoek is deleted meanwhile is refused with 400, like a create
naming an unknown verzoek.

A timeout or dropped connection says nothing about what the DRC did, so every failure is
followed by a look at the DRC's mirrors of the pair. What cannot be settled during the
request (the DRC unreachable, the process killed) is recorded in the row (``sync``: the
mirror is to be made or checked / to be removed with the row; ``sync_owner``: the operation
working on it) and finished by :mod:`reference_kic.reconcile`, which also mirrors rows that
were inserted into the database by other means.

:meth:`DrcSync.create` and :meth:`DrcSync.delete` are the only request paths that insert or
remove VIO rows (the table's foreign key refuses a cascade that would bypass them).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import uuid as uuid_module
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from zgw.errors import ApiError, InvalidParam, ValidationFailed

from .defects import Defects
from .kinds import MIRRORED
from .ownership import new_owner
from .remote import RemoteApis, RemoteUnavailable, api_root_before, list_items
from .rules import NON_FIELD
from .storage import TOUCHED_TABLE, Store
from .urls import resource_url

log = logging.getLogger(__name__)

TABLE = MIRRORED.collection  # verzoekinformatieobjecten
DOCUMENT_RESOURCE = "enkelvoudiginformatieobjecten"
#: What the GET of a document must show for the document to count as one.
DOCUMENT_KEYS = ("url", "titel")
#: ``sync`` values: the mirror is to be made or checked / the (hidden) row is to be removed.
MIRROR, UNMIRROR = "mirror", "unmirror"


class MirrorFailed(Exception):
    """The DRC refused or could not be reached; the message says which and the status.

    ``uncertain``: no answer came (timeout, dropped connection), so the DRC may still carry
    the request out.
    """

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _gone_links(conn: sqlite3.Connection, stored: dict[str, Any]) -> list[InvalidParam]:
    """The reference's ``does_not_exist`` for each local link of ``stored`` that is gone."""
    problems = []
    for name, target in MIRRORED.links.items():
        found = conn.execute(f"SELECT 1 FROM {target} WHERE uuid = ?", (stored.get(name),))
        if found.fetchone() is None:
            problems.append(
                InvalidParam(name, "does_not_exist", "Ongeldige hyperlink - Object bestaat niet.")
            )
    return problems or [InvalidParam(NON_FIELD, "invalid", "The relation could not be stored.")]


def _refused(action: str, exc: Exception, consequence: str) -> ValidationFailed:
    return ValidationFailed(
        [
            InvalidParam(
                NON_FIELD, "invalid", f"Could not {action} remote relation: {exc}. " + consequence
            )
        ]
    )


def settle_time(http_timeout: float) -> float:
    """How long the DRC may still work on a request of ours: just over one DRC timeout."""
    return http_timeout + 1.0


class DrcSync:
    """Creates and deletes VIOs together with their DRC mirrors, and settles leftovers."""

    def __init__(
        self,
        store: Store,
        remote: RemoteApis,
        defects: Defects,
        public_base_url: str | None = None,
        *,
        settle: float = 11.0,
    ) -> None:
        self.store = store
        self.remote = remote
        self.defects = defects
        self.public_base_url = public_base_url
        #: Seconds after which the DRC has finished any request of ours still under way.
        self.settle_seconds = settle

    # -- create -----------------------------------------------------------------------------
    def create(self, data: dict[str, Any], base: str) -> dict[str, Any]:
        """Check the document, store the VIO, mirror it in the DRC; return the stored row.

        ``base``: the API root of the request (the mirror's ``object`` is the verzoek's URL).
        """
        self.remote.fetch_resource(data["informatieobject"], "informatieobject", DOCUMENT_KEYS)
        verzoek_url = self._verzoek_url(base, data["verzoek"])
        row = {**data, "mirrorObject": verzoek_url, "uuid": str(uuid_module.uuid4())}
        stored = {k: v for k, v in row.items() if k != "uuid"}
        if self.defects.mirror_before_commit:
            self._mirror_or_refuse(row)
            self._insert(row["uuid"], stored, owner=None)
            return row
        if self.defects.mirror_skipped:
            self._insert(row["uuid"], stored, owner=None)
            return row
        owner = new_owner()
        self._insert(row["uuid"], stored, owner=owner)
        try:
            self._post_mirror(row)
        except MirrorFailed as exc:
            if exc.uncertain and self.defects.mirror_unanswered_as_success:
                self.settle(row["uuid"], owner)
                return row
            if self._undo_create(row, owner, uncertain=exc.uncertain):
                return row
            raise _refused("create", exc, "The relation was not kept.") from None
        if self.defects.mirror_posted_twice:
            with contextlib.suppress(MirrorFailed):
                self._post_mirror(row)
        self.settle(row["uuid"], owner)
        return row

    def _insert(self, uuid: str, stored: dict[str, Any], owner: str | None) -> None:
        unique = MIRRORED.unique
        with self.store.write() as conn:
            if unique is not None and unique.enforced(self.defects):
                values = {column: stored[column] for column in unique.columns}
                duplicate = Store.duplicate(conn, TABLE, values)
                if duplicate is not None:
                    note = "(The existing relation is being deleted; retry shortly.)"
                    raise ValidationFailed([unique.problem(note if duplicate.hidden else "")])
            try:
                Store.insert(conn, TABLE, uuid, stored)
            except sqlite3.IntegrityError:
                # The verzoek was deleted after the request checked it: the same answer as
                # for a verzoek that never existed.
                raise ValidationFailed(_gone_links(conn, stored)) from None
            conn.execute(
                f"UPDATE {TABLE} SET sync = ?, sync_owner = ?, sync_since = ? WHERE uuid = ?",
                (MIRROR if owner else None, owner, time.time(), uuid),
            )

    def _undo_create(self, row: dict[str, Any], owner: str, *, uncertain: bool) -> bool:
        """After a failed mirror POST: True when the DRC made the mirror after all (kept).

        The row is hidden first, so a DRC that is still working on the POST finds no relation
        in its call-back and refuses; then the DRC's list tells what happened. After a POST
        without answer an empty list proves little (the DRC may be writing the mirror right
        now), so the hidden row is left to the reconciler, which looks again once the DRC
        is done and deletes whatever mirror it finds, then the row.
        """
        uuid = row["uuid"]
        self._mark([uuid], sync=UNMIRROR, hidden=True, owner=owner, held_by=owner)
        try:
            made = self._list_mirrors(row)
        except MirrorFailed as exc:
            log.warning("VIO %s: cannot tell whether the DRC kept a mirror (%s)", uuid, exc)
            self.release(uuid, owner)
            return False
        if made:
            self._mark([uuid], sync=None, hidden=False, owner=None, held_by=owner)
            return True
        if uncertain:
            self.release(uuid, owner)
            return False
        with self.store.write() as conn:
            conn.execute(f"DELETE FROM {TABLE} WHERE uuid = ? AND sync_owner = ?", (uuid, owner))
        return False

    def _mirror_or_refuse(self, row: dict[str, Any]) -> None:
        try:
            self._post_mirror(row)
        except MirrorFailed as exc:
            raise _refused("create", exc, "The relation was not kept.") from None

    def _post_mirror(self, row: dict[str, Any]) -> None:
        root = self._drc_root(row["informatieobject"])
        object_type = "zaak" if self.defects.mirror_wrong_objecttype else "verzoek"
        body = {
            "informatieobject": row["informatieobject"],
            "object": row["mirrorObject"],
            "objectType": object_type,
        }
        response = self._call("POST", f"{root}objectinformatieobjecten", json=body)
        if self.defects.mirror_refusal_ignored and 400 <= response.status_code < 500:
            return
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

        Either everything is deleted, or (the DRC failed) nothing is and the rows are
        visible again; then :class:`ValidationFailed` says why. ``rows`` may include hidden
        rows a cascade found on their way out; those stay hidden whatever happens.
        """
        uuids = [row["uuid"] for row in rows]
        owner = new_owner()
        hide = bool(uuids) and not self.defects.delete_mirror_while_visible
        leaving = self._hidden(uuids)
        if hide:
            self._hide_for_delete(rows, owner)
        removed: list[dict[str, Any]] = []
        try:
            if not self.defects.delete_mirror_skipped:
                for row in rows:
                    self._delete_mirror(row)
                    removed.append(row)
        except MirrorFailed as exc:
            self._restore(rows, removed, owner if hide else None, leaving)
            # 409, a failure status the delete operations document (400 is not among them).
            raise ApiError(
                409, "conflict", f"Could not delete remote relation: {exc}. Nothing was deleted."
            ) from None
        try:
            with self.store.write() as conn:
                for uuid in uuids:
                    Store.delete(conn, TABLE, uuid)
                if finish is not None:
                    finish(conn)
        except sqlite3.IntegrityError:
            # A new VIO was linked to the parent meanwhile; its mirror must not be orphaned.
            self._restore(rows, removed, owner if hide else None, leaving)
            raise ApiError(
                409,
                "conflict",
                "A verzoekinformatieobject was added while deleting; nothing was deleted. Retry.",
            ) from None

    def _hide_for_delete(self, rows: list[dict[str, Any]], owner: str) -> None:
        """Hide ``rows`` for their delete, which takes them over from whoever had them.

        A row with DRC work under way or unsettled (``sync`` set: a create, a repair, an
        uncertain POST) may get its mirror in the DRC after this delete has looked: its pair
        is recorded for the reconciler.
        """
        now = time.time()
        with self.store.write() as conn:
            for row in rows:
                found = conn.execute(
                    f"SELECT sync FROM {TABLE} WHERE uuid = ?", (row["uuid"],)
                ).fetchone()
                if found is not None and found[0] is not None:
                    self._touch(conn, row, now)
                conn.execute(
                    f"UPDATE {TABLE} SET hidden = 1, sync = ?, sync_owner = ?, sync_since = ?, "
                    "sync_due = NULL, sync_attempts = 0 WHERE uuid = ?",
                    (UNMIRROR, owner, now, row["uuid"]),
                )

    def _touch(self, conn: sqlite3.Connection, row: dict[str, Any], now: float) -> None:
        mirror_object = self.mirror_object(row)
        if mirror_object is None or not isinstance(row.get("informatieobject"), str):
            return
        conn.execute(
            f"INSERT INTO {TOUCHED_TABLE} (mirror_object, informatieobject, due) VALUES (?, ?, ?) "
            "ON CONFLICT (mirror_object, informatieobject) DO UPDATE SET due = excluded.due, "
            "attempts = 0",
            (mirror_object, row["informatieobject"], now + self.settle_seconds),
        )

    def _delete_mirror(self, row: dict[str, Any]) -> None:
        """Delete the mirror(s) of ``row``; a failure is re-checked before it counts."""
        if self.defects.delete_needs_mirror and not self._list_mirrors(row):
            raise MirrorFailed("the DRC lists no mirror of the relation to delete")
        try:
            self._delete_listed_mirrors(row)
        except MirrorFailed as failure:
            # A timeout may hide a delete the DRC did: if nothing is listed, the goal holds.
            try:
                if not self._list_mirrors(row):
                    return
            except MirrorFailed:
                pass
            raise failure from None

    def _delete_listed_mirrors(self, row: dict[str, Any]) -> None:
        mirrors = self._list_mirrors(row)
        if self.defects.delete_wrong_mirror:
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

    def _hidden(self, uuids: list[str]) -> set[str]:
        if not uuids:
            return set()
        marks = ", ".join("?" * len(uuids))
        sql = f"SELECT uuid FROM {TABLE} WHERE hidden != 0 AND uuid IN ({marks})"
        return {uuid for (uuid,) in self.store.conn.execute(sql, uuids)}

    def _restore(
        self,
        rows: list[dict[str, Any]],
        removed: list[dict[str, Any]],
        owner: str | None,
        leaving: set[str],
    ) -> None:
        """Show ``rows`` again (except those already ``leaving``) and put back their mirrors.

        The rows stay marked for the reconciler: the DRC may still act on a request that timed
        out, so their mirrors are checked once more after it had time to.
        """
        touched = rows[: len(removed) + 1]  # the last one failed: its mirror may be gone too
        back = [row for row in touched if row["uuid"] not in leaving]
        if owner is None:  # the rows were never hidden (a deliberate defect)
            for row in back:
                self._ensure_quietly(row)
            return
        uuids = [row["uuid"] for row in rows]
        shown = [uuid for uuid in uuids if uuid not in leaving]
        if self.defects.cascade_restore_skipped:
            self._mark(shown, sync=None, hidden=False, owner=None, held_by=owner)
            return
        self._mark(shown, sync=MIRROR, hidden=False, owner=owner, held_by=owner)
        for row in back:
            self._ensure_quietly(row)
        for uuid in uuids:
            self.release(uuid, owner)

    def _ensure_quietly(self, row: dict[str, Any]) -> None:
        try:
            self.ensure_mirror(row)
        except MirrorFailed as exc:
            log.error(
                "could not restore the DRC mirror of VIO %s (retried later): %s", row["uuid"], exc
            )

    # -- used by the reconciler -------------------------------------------------------------
    def ensure_mirror(self, row: dict[str, Any]) -> None:
        """Make sure the DRC holds a mirror of ``row`` (POST one when none is listed)."""
        if not self._list_mirrors(row):
            self._post_mirror(row)

    def remove_mirrors_and_row(self, row: dict[str, Any], owner: str) -> None:
        """Delete every mirror of the (hidden) ``row``, then the row if ``owner`` still has it."""
        self._delete_mirror(row)
        with self.store.write() as conn:
            conn.execute(
                f"DELETE FROM {TABLE} WHERE uuid = ? AND sync_owner = ?", (row["uuid"], owner)
            )

    def pair_mirrors(self, mirror_object: str, informatieobject: str) -> list[str]:
        """URLs of the DRC's mirrors of the pair (verzoek URL, document URL)."""
        mirrors = self._list_mirrors(
            {"mirrorObject": mirror_object, "informatieobject": informatieobject}
        )
        urls = [m.get("url") for m in mirrors if isinstance(m, dict)]
        if len(urls) != len(mirrors) or not all(isinstance(url, str) for url in urls):
            raise MirrorFailed("a mirror in the DRC's list has no url")
        return urls  # type: ignore[return-value]

    def delete_mirror_url(self, url: str) -> None:
        """Delete one mirror by its URL (gone already counts as deleted)."""
        response = self._call("DELETE", url)
        if response.status_code not in (204, 404):
            raise MirrorFailed(
                f"the DRC refused to delete the mirror with HTTP {response.status_code} "
                f"({_excerpt(response.text)})"
            )

    def drc_root(self, document_url: str) -> str | None:
        """The DRC API root serving ``document_url`` (None when it cannot be derived)."""
        return api_root_before(document_url, DOCUMENT_RESOURCE)

    def mirror_object(self, row: dict[str, Any]) -> str | None:
        """The URL the mirror's ``object`` carries: stored at create, else the public URL."""
        if isinstance(row.get("mirrorObject"), str):
            return row["mirrorObject"]
        if self.public_base_url and isinstance(row.get("verzoek"), str):
            return self._verzoek_url(self.public_base_url, row["verzoek"])
        return None

    @staticmethod
    def _verzoek_url(base: str, verzoek: str) -> str:
        return resource_url(base, MIRRORED.links["verzoek"], verzoek)

    # -- bookkeeping --------------------------------------------------------------------------
    def _mark(
        self,
        uuids: list[str],
        *,
        sync: str | None,
        hidden: bool,
        owner: str | None,
        held_by: str | None = None,
    ) -> None:
        """Set state, visibility and owner; with ``held_by``, only rows that operation holds.

        A row another operation took over (a delete during the reconciler's check) is that
        operation's to finish.
        """
        condition = "" if held_by is None else " AND sync_owner = ?"
        with self.store.write() as conn:
            for uuid in uuids:
                conn.execute(
                    f"UPDATE {TABLE} SET hidden = ?, sync = ?, sync_owner = ?, sync_since = ?, "
                    f"sync_due = NULL, sync_attempts = 0 WHERE uuid = ?{condition}",
                    (int(hidden), sync, owner, time.time(), uuid)
                    + (() if held_by is None else (held_by,)),
                )

    def settle(self, uuid: str, owner: str) -> None:
        """The row's mirror is confirmed: nothing left to do for it."""
        self._mark([uuid], sync=None, hidden=False, owner=None, held_by=owner)

    def retry_later(self, uuid: str, owner: str, due: float, *, failed: bool = True) -> None:
        """Leave the row to the reconciler again, not before ``due`` (time.time()); ``failed``
        counts an attempt (the reconciler's back-off grows with them)."""
        with self.store.write() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET sync_owner = NULL, sync_since = ?, sync_due = ?, "
                "sync_attempts = sync_attempts + ? WHERE uuid = ? AND sync_owner = ?",
                (time.time(), due, int(failed), uuid, owner),
            )

    def release(self, uuid: str, owner: str) -> None:
        """Leave the row's unfinished state to the reconciler (from now on)."""
        with self.store.write() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET sync_owner = NULL, sync_since = ? "
                "WHERE uuid = ? AND sync_owner = ?",
                (time.time(), uuid, owner),
            )

    # -- helpers ----------------------------------------------------------------------------
    def _list_mirrors(self, row: dict[str, Any]) -> list[Any]:
        """The DRC's mirrors of ``row``: filtered on both object and informatieobject."""
        root = self._drc_root(row["informatieobject"])
        if self.defects.delete_wrong_mirror:
            params = {"object": row["mirrorObject"]}
        else:
            params = {"object": row["mirrorObject"], "informatieobject": row["informatieobject"]}
        url = f"{root}objectinformatieobjecten"
        response = self._call("GET", url, params=params)
        # Each failure names the DRC (several may be configured) and what was wrong.
        where = f"the DRC at {root} could not list the mirrors (GET {url})"
        if response.status_code != 200:
            raise MirrorFailed(
                f"{where}: it answered HTTP {response.status_code} ({_excerpt(response.text)})"
            )
        try:
            mirrors = response.json()
        except ValueError as exc:  # not JSON, too deep, too large, ...: the reader says which
            raise MirrorFailed(f"{where}: its answer is not usable JSON ({exc})") from None
        items = list_items(mirrors)
        if items is None:
            raise MirrorFailed(
                f"{where}: its answer is not a JSON array (nor a page with results), "
                f"but {type(mirrors).__name__}"
            )
        return items

    def _drc_root(self, document_url: str) -> str:
        root = api_root_before(document_url, DOCUMENT_RESOURCE)
        if root is None:
            raise MirrorFailed(
                f"cannot derive the DRC API root from {document_url} "
                f"(expected .../{DOCUMENT_RESOURCE}/<uuid>)"
            )
        credentials = self.remote.config.drc_credentials
        if self.defects.mirror_to_first_drc and credentials:
            first = urlsplit(credentials[0].api_root)
            root = urlsplit(root)._replace(scheme=first.scheme, netloc=first.netloc).geturl()
        return root

    # -- the drc-before-checks defect -------------------------------------------------------
    def mirror_before_checks(self, body: Any) -> None:
        """Defect ``drc-before-checks``: POST the mirror of a create nothing has checked yet."""
        if not isinstance(body, dict):
            return
        verzoek, document = body.get("verzoek"), body.get("informatieobject")
        if isinstance(verzoek, str) and isinstance(document, str):
            with contextlib.suppress(MirrorFailed):
                self._post_mirror({"informatieobject": document, "mirrorObject": verzoek})

    def unmirror_before_checks(self, uuid: str) -> None:
        """Defect ``drc-before-checks``: delete the mirrors of a row before the delete is
        checked (a strict DRC refuses while the row is listed; the request reached it all
        the same)."""
        row = self.store.get(TABLE, uuid)
        if row is not None and self.mirror_object(row) is not None:
            with contextlib.suppress(MirrorFailed):
                self._delete_listed_mirrors({**row, "mirrorObject": self.mirror_object(row)})

    def _call(self, method: str, url: str, **kwargs: Any):  # -> httpx.Response
        try:
            return self.remote.request(method, url, **kwargs)
        except RemoteUnavailable as exc:
            raise MirrorFailed(f"the DRC was unreachable ({exc})", uncertain=True) from None
