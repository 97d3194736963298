"""The passive side of objectcontactmomenten and objectverzoeken: checking the zaak's API.

The Zaken API (ZRC) owns the canonical relation (zaakcontactmoment / zaakverzoek) and creates
it first; the KIC only records its half when the ZRC lists the relation, and removes it only
when the ZRC no longer does. Every remote failure becomes a 400 with a clear code, also an
answer that is not usable JSON (too deep, too large: see remote.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zgw.errors import InvalidParam, ValidationFailed, invalid

from .remote import RemoteApis, RemoteUnavailable, api_root_before, list_items
from .rules import NON_FIELD

ZAAK_KEYS = ("url",)


@dataclass(frozen=True)
class ZaakRelation:
    """Where the ZRC lists the canonical side of one KIC relation resource."""

    zrc_list: str  # the ZRC's list resource, e.g. ``zaakcontactmomenten``
    own_field: str  # the KIC field, and the list's query parameter, naming the KIC resource


class ZaakRelations:
    """Validates ``object`` URLs and consults the ZRC's relation lists."""

    def __init__(self, remote: RemoteApis) -> None:
        self.remote = remote

    def check_object(self, object_url: str) -> None:
        """The object must be a fetchable zaak (``bad-url`` / ``invalid-resource`` on object)."""
        self.remote.fetch_resource(
            object_url, "object", ZAAK_KEYS, headers={"Accept-Crs": "EPSG:4326"}
        )
        if api_root_before(object_url, "zaken") is None:
            raise invalid(
                "object", "invalid-resource", f"{object_url} is not a zaak URL (.../zaken/<uuid>)."
            )

    def require_relation(self, relation: ZaakRelation, object_url: str, own_url: str) -> None:
        """Create: the ZRC must list the relation (else ``inconsistent-relation``)."""
        if not self._remote_relations(relation, object_url, own_url, "relation-validation-error"):
            own = relation.own_field
            raise ValidationFailed(
                [
                    InvalidParam(
                        NON_FIELD, "inconsistent-relation", f"The {own} has no relations to zaak"
                    )
                ]
            )

    def require_no_relation(self, relation: ZaakRelation, object_url: str, own_url: str) -> None:
        """Delete: the ZRC must no longer list the relation (else ``remote-relation-exists``)."""
        if self._remote_relations(relation, object_url, own_url, "relation-lookup-error"):
            raise ValidationFailed(
                [
                    InvalidParam(
                        NON_FIELD,
                        "remote-relation-exists",
                        "The canonical remote relation still exists, "
                        "this relation cannot be deleted.",
                    )
                ]
            )

    def _remote_relations(
        self, relation: ZaakRelation, object_url: str, own_url: str, client_error_code: str
    ) -> list[Any]:
        root = api_root_before(object_url, "zaken")
        if root is None:
            raise invalid(
                NON_FIELD, client_error_code, f"Cannot derive the Zaken API root from {object_url}."
            )
        url = f"{root}{relation.zrc_list}"
        try:
            response = self.remote.request(
                "GET", url, params={"zaak": object_url, relation.own_field: own_url}
            )
        except RemoteUnavailable as exc:
            raise invalid(
                NON_FIELD, "remote-unavailable", f"The Zaken API at {url} is unreachable: {exc}"
            ) from None
        if 400 <= response.status_code < 500:
            raise invalid(
                NON_FIELD,
                client_error_code,
                f"The Zaken API answered HTTP {response.status_code} on {url}.",
            )
        if response.status_code != 200:
            raise invalid(
                NON_FIELD,
                "remote-unavailable",
                f"The Zaken API answered HTTP {response.status_code} on {url}.",
            )
        try:
            items = list_items(response.json())
        except ValueError as exc:  # not usable JSON (zgw.bodies): too deep, too large, ...
            raise invalid(
                NON_FIELD, "remote-unavailable", f"The Zaken API's list at {url}: {exc}"
            ) from None
        if items is None:
            raise invalid(
                NON_FIELD, "remote-unavailable", f"The Zaken API's list at {url} is not an array."
            )
        return items
