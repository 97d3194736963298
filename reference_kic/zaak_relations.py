"""The passive side of objectcontactmomenten and objectverzoeken: checking the zaak's API.

The Zaken API (ZRC) owns the canonical relation (zaakcontactmoment / zaakverzoek) and creates
it first; the KIC only records its half when the ZRC lists the relation, and removes it only
when the ZRC no longer does. Every remote failure becomes a 400 with a clear code.
"""

from __future__ import annotations

from typing import Any

from zgw.errors import InvalidParam, ValidationFailed, invalid

from .remote import RemoteApis, RemoteUnavailable, api_root_before
from .rules import NON_FIELD

#: KIC collection -> (ZRC list resource, its query parameter naming the KIC resource)
REMOTE_LISTS = {
    "objectcontactmomenten": ("zaakcontactmomenten", "contactmoment"),
    "objectverzoeken": ("zaakverzoeken", "verzoek"),
}
ZAAK_KEYS = ("url",)


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

    def require_relation(self, collection: str, object_url: str, own_url: str) -> None:
        """Create: the ZRC must list the relation (else ``inconsistent-relation``)."""
        if not self._remote_relations(collection, object_url, own_url, "relation-validation-error"):
            own = REMOTE_LISTS[collection][1]
            raise ValidationFailed(
                [
                    InvalidParam(
                        NON_FIELD, "inconsistent-relation", f"The {own} has no relations to zaak"
                    )
                ]
            )

    def require_no_relation(self, collection: str, object_url: str, own_url: str) -> None:
        """Delete: the ZRC must no longer list the relation (else ``remote-relation-exists``)."""
        if self._remote_relations(collection, object_url, own_url, "relation-lookup-error"):
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
        self, collection: str, object_url: str, own_url: str, client_error_code: str
    ) -> list[Any]:
        resource, own_param = REMOTE_LISTS[collection]
        root = api_root_before(object_url, "zaken")
        if root is None:
            raise invalid(
                NON_FIELD, client_error_code, f"Cannot derive the Zaken API root from {object_url}."
            )
        url = f"{root}{resource}"
        try:
            response = self.remote.request(
                "GET", url, params={"zaak": object_url, own_param: own_url}
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
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            body = body["results"]
        if not isinstance(body, list):
            raise invalid(
                NON_FIELD, "remote-unavailable", f"The Zaken API's list at {url} is not an array."
            )
        return body
