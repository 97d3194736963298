"""The Documenten API endpoints: enkelvoudiginformatieobjecten and objectinformatieobjecten.

Mirrors (objectinformatieobjecten) are validated like a real DRC validates them, and in
strict mode their creation and deletion are checked with a call-back into the object's API
(only for ``objectType: verzoek``; zaak and besluit relations are not checked, because their
APIs are out of scope for a KIC conformance run).
"""

from __future__ import annotations

import re
from typing import Any

import falcon

from mock_drc import callback
from mock_drc.auth import may_read, require_scope
from mock_drc.common import (
    answer_json,
    as_validation_failed,
    json_object_body,
    public_base,
    reject_unknown_params,
    single_param,
)
from mock_drc.config import (
    DOCUMENTEN_AANMAKEN,
    DOCUMENTEN_LEZEN,
    DOCUMENTEN_VERWIJDEREN,
    DrcConfig,
)
from mock_drc.fields import FieldChecker, FieldErrors
from mock_drc.paths import DOCUMENTS_COLLECTION, join
from mock_drc.store import DrcState
from zgw.errors import ApiError, InvalidParam, ValidationFailed, invalid

PAGE_SIZE = 100
_DOCUMENT_PATH = re.compile(
    r"/enkelvoudiginformatieobjecten/(?P<uuid>[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})/?$"
)

# The error code a call-back outcome gives on create and on delete (absent: go ahead).
_CREATE_ERRORS = {
    callback.NOT_LISTED: "inconsistent-relation",
    callback.CLIENT_ERROR: "relation-validation-error",
}
_DELETE_ERRORS = {
    callback.LISTED: "remote-relation-exists",
    callback.CLIENT_ERROR: "relation-lookup-error",
}
_SHARED_ERRORS = {
    callback.SERVER_ERROR: "remote-server-error",
    callback.UNREACHABLE: "remote-unreachable",
    callback.INVALID_RESPONSE: "remote-invalid-response",
}


class _Resource:
    def __init__(self, state: DrcState, config: DrcConfig) -> None:
        self.state = state
        self.config = config


class DocumentCollection(_Resource):
    """``enkelvoudiginformatieobjecten``: paginated list (like 1.5.0) and create."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        readable = may_read(req, self.config, DOCUMENTEN_LEZEN)  # the token before the query
        reject_unknown_params(
            req, {"bronorganisatie", "identificatie", "page", "expand", "trefwoorden"}
        )
        found = self.state.documents() if readable else []
        for name in ("bronorganisatie", "identificatie"):
            value = single_param(req, name)
            if value is not None:
                found = [doc for doc in found if doc.get(name) == value]
        page = self._page_number(req)
        start = (page - 1) * PAGE_SIZE
        if page > 1 and start >= len(found):
            raise ApiError(404, "not_found", "Ongeldige pagina.")
        collection = join(public_base(req, self.config), DOCUMENTS_COLLECTION)
        has_next = start + PAGE_SIZE < len(found)
        answer_json(
            resp,
            {
                "count": len(found),
                "next": f"{collection}?page={page + 1}" if has_next else None,
                "previous": f"{collection}?page={page - 1}" if page > 1 else None,
                "results": found[start : start + PAGE_SIZE],
            },
        )

    @staticmethod
    def _page_number(req: falcon.Request) -> int:
        raw = single_param(req, "page")
        if raw is None:
            return 1
        if not raw.isdigit() or int(raw) < 1:
            raise invalid("page", "invalid", "page must be a whole number of at least 1.")
        return int(raw)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_scope(req, self.config, DOCUMENTEN_AANMAKEN)
        fields = json_object_body(req)
        try:
            document = self.state.add_document(
                fields,
                base_url=public_base(req, self.config),
                generation=req.context.generation,
            )
        except FieldErrors as exc:
            raise as_validation_failed(exc) from None
        req.context.resource = document
        answer_json(resp, document, 201)
        resp.set_header("Location", document["url"])


class DocumentItem(_Resource):
    """``enkelvoudiginformatieobjecten/{uuid}``: read."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        require_scope(req, self.config, DOCUMENTEN_LEZEN)
        document = self.state.document(uuid)
        if document is None:
            raise ApiError(404, "not_found", f"No enkelvoudiginformatieobject {uuid}.")
        req.context.resource = document
        answer_json(resp, document)


class _MirrorResource(_Resource):
    """What the mirror collection and item share: whether and how to call the KIC back."""

    def __init__(
        self, state: DrcState, config: DrcConfig, callbacks: callback.CallbackChecker
    ) -> None:
        super().__init__(state, config)
        self.callbacks = callbacks

    def _checks_remote(self, object_type: str) -> bool:
        return self.config.strict and object_type == "verzoek"

    def _call_back(
        self, req: falcon.Request, object_url: str, document_url: str
    ) -> callback.CallbackResult:
        result = self.callbacks.list_verzoek_relation(
            object_url,
            document_url,
            credentials=self.config.callback_credentials,
            timeout=self.config.callback_timeout,
        )
        req.context.callbacks.append(result.as_dict())
        return result


class MirrorCollection(_MirrorResource):
    """``objectinformatieobjecten``: plain-array list with exact filters, and create."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        readable = may_read(req, self.config, DOCUMENTEN_LEZEN)  # the token before the query
        reject_unknown_params(req, {"object", "informatieobject", "expand"})
        if not readable:
            answer_json(resp, [])
            return
        answer_json(
            resp,
            self.state.find_mirrors(
                object_url=single_param(req, "object"),
                informatieobject=single_param(req, "informatieobject"),
            ),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_scope(req, self.config, DOCUMENTEN_AANMAKEN)
        data = json_object_body(req)
        document_url, object_url, object_type = self._validate(data)
        if self.state.find_mirrors(object_url=object_url, informatieobject=document_url):
            raise self._not_unique()
        if self._checks_remote(object_type):
            result = self._call_back(req, object_url, document_url)
            code = _CREATE_ERRORS.get(result.outcome) or _SHARED_ERRORS.get(result.outcome)
            if code:
                raise invalid("nonFieldErrors", code, _reason(result, creating=True))
        mirror = self.state.add_mirror_if_unique(
            document_url,
            object_url,
            object_type,
            base_url=public_base(req, self.config),
            generation=req.context.generation,
        )
        if mirror is None:
            raise self._not_unique()
        req.context.resource = mirror
        answer_json(resp, mirror, 201)
        resp.set_header("Location", mirror["url"])

    def _validate(self, data: dict[str, Any]) -> tuple[str, str, str]:
        check = FieldChecker(data)
        document_url = check.url("informatieobject", required=True, max_length=1000)
        object_url = check.url("object", required=True, max_length=1000)
        object_type = check.choice("objectType", self.config.object_types, required=True)
        if document_url:
            self._check_document(check, document_url)
        strict_verzoek = object_type == "verzoek" and self.config.strict
        if object_url and strict_verzoek and callback.kic_root(object_url) is None:
            check.fail(
                "object",
                "bad-url",
                "A verzoek URL must end in verzoeken/<uuid>; the KIC API root is "
                "derived from it for the call-back.",
            )
        if check.params:
            raise ValidationFailed(check.params)
        assert document_url and object_url and object_type
        return document_url, object_url, object_type

    def _check_document(self, check: FieldChecker, document_url: str) -> None:
        match = _DOCUMENT_PATH.search(document_url.split("?", 1)[0])
        if match is None:
            check.fail(
                "informatieobject",
                "no_match",
                "The URL does not point at an enkelvoudiginformatieobject "
                "(.../enkelvoudiginformatieobjecten/<uuid>) of this Documenten API.",
            )
        elif self.state.document(match.group("uuid").lower()) is None:
            check.fail(
                "informatieobject",
                "does_not_exist",
                f"This Documenten API has no enkelvoudiginformatieobject {match.group('uuid')}.",
            )

    @staticmethod
    def _not_unique() -> ValidationFailed:
        return ValidationFailed(
            [
                InvalidParam(
                    "nonFieldErrors",
                    "unique",
                    "De velden informatieobject, object moeten een unieke set zijn.",
                )
            ]
        )


class MirrorItem(_MirrorResource):
    """``objectinformatieobjecten/{uuid}``: read and delete."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        require_scope(req, self.config, DOCUMENTEN_LEZEN)
        answer_json(resp, self._find(req, uuid))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        require_scope(req, self.config, DOCUMENTEN_VERWIJDEREN)
        mirror = self._find(req, uuid)
        if self._checks_remote(mirror["objectType"]):
            result = self._call_back(req, mirror["object"], mirror["informatieobject"])
            code = _DELETE_ERRORS.get(result.outcome) or _SHARED_ERRORS.get(result.outcome)
            if code:
                raise invalid("nonFieldErrors", code, _reason(result, creating=False))
        if not self.state.remove_mirror(uuid, generation=req.context.generation):
            raise ApiError(404, "not_found", f"No objectinformatieobject {uuid}.")
        resp.status = falcon.HTTP_204

    def _find(self, req: falcon.Request, uuid: str) -> dict[str, Any]:
        mirror = self.state.mirror(uuid)
        if mirror is None:
            raise ApiError(404, "not_found", f"No objectinformatieobject {uuid}.")
        req.context.resource = mirror
        return mirror


def _reason(result: callback.CallbackResult, *, creating: bool) -> str:
    if result.outcome == callback.NOT_LISTED:
        return "The KIC lists no relation between this verzoek and this informatieobject."
    if result.outcome == callback.LISTED:
        return (
            "The canonical remote relation still exists, this relation cannot be deleted "
            "(the KIC still lists it)."
        )
    action = "validate" if creating else "look up"
    status = f" (HTTP {result.status})" if result.status else ""
    return f"Could not {action} the remote relation at {result.url}{status}: {result.detail}"
