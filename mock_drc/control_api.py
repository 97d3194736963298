"""The control API under ``/_mock/``: inspect and steer a running mock DRC over HTTP.

Not journaled, not faulted, no JWT, no content negotiation (plain ``curl -d`` works).

- ``GET /_mock/journal?method=&path=&path_contains=&since=&mentions=`` -> JSON array of
  entries (``since``: only entries with a larger id; ``mentions``, repeatable: only entries
  that mention one of these strings, see :mod:`mock_drc.journal`); ``DELETE /_mock/journal``
  -> 204.
- ``POST /_mock/reset`` -> 204: forget documents, mirrors, zaken, links, journal and faults,
  atomically with respect to requests in flight (see :mod:`mock_drc.store`).
- ``POST /_mock/documents`` (body: document fields, may be empty) -> 201 the document.
- ``POST /_mock/zaken`` (body: zaak fields, may be empty) -> 201 the zaak.
- ``POST /_mock/zaken/links`` (body: ``{"zaak": url, "contactmoment": url}`` or with
  ``"verzoek"``) -> 201 the zaakcontactmoment / zaakverzoek; ``DELETE /_mock/zaken/links``
  (same body) -> 200 ``{"removed": [links]}`` (idempotent).
- ``DELETE /_mock/mirrors`` (body: ``{"object": url, "informatieobject": url}``, at least one)
  -> 200 ``{"removed": [mirrors]}``: removes the matching objectinformatieobjecten behind the
  KIC's back (no call-back, not journaled), for a scenario whose mirror is already gone.
- ``GET /_mock/faults`` -> array; ``POST /_mock/faults`` (body: ``method, path, status?,
  body?, delay?, drop?, count?``) -> 201 the rule; ``DELETE /_mock/faults`` -> 204 (all);
  ``DELETE /_mock/faults/{id}`` -> 204 or 404.
- ``GET /_mock/state`` -> ``{documents, mirrors, zaken, links, faults, baseUrl, config}``.

Invalid input gets a 400 ValidatieFout naming the field.
"""

from __future__ import annotations

from typing import Any

import falcon

from mock_drc.common import (
    answer_json,
    json_object_body,
    public_base,
    reject_unknown_params,
    single_param,
)
from mock_drc.config import DrcConfig
from mock_drc.fields import FieldErrors
from mock_drc.store import DrcState
from zgw.errors import ApiError, ValidationFailed, invalid


class _Control:
    def __init__(self, state: DrcState, config: DrcConfig) -> None:
        self.state = state
        self.config = config


def _created(resp: falcon.Response, body: dict[str, Any]) -> None:
    answer_json(resp, body, 201)


class JournalResource(_Control):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        reject_unknown_params(req, {"method", "path", "path_contains", "since", "mentions"})
        since = single_param(req, "since")
        if since is not None and not since.lstrip("-").isdigit():
            raise invalid("since", "invalid", "since must be a journal entry id (a whole number).")
        answer_json(
            resp,
            self.state.journal(
                method=single_param(req, "method") or None,
                path=single_param(req, "path") or None,
                path_contains=single_param(req, "path_contains") or None,
                since_id=int(since) if since is not None else None,
                mentions=req.get_param_as_list("mentions"),
            ),
        )

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.state.clear_journal()
        resp.status = falcon.HTTP_204


class ResetResource(_Control):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.state.reset()
        resp.status = falcon.HTTP_204


class SeedDocumentResource(_Control):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = json_object_body(req, empty_ok=True)
        try:
            document = self.state.seed_document(
                fields, base_url=public_base(req, self.config), generation=req.context.generation
            )
            _created(resp, document)
        except FieldErrors as exc:
            raise ValidationFailed(exc.params) from None


class SeedZaakResource(_Control):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = json_object_body(req, empty_ok=True)
        try:
            zaak = self.state.seed_zaak(
                fields, base_url=public_base(req, self.config), generation=req.context.generation
            )
            _created(resp, zaak)
        except FieldErrors as exc:
            raise ValidationFailed(exc.params) from None


class ZaakLinkResource(_Control):
    FIELDS = frozenset({"zaak", "contactmoment", "verzoek"})

    def _link_body(self, req: falcon.Request) -> dict[str, Any]:
        body = json_object_body(req)
        unknown = sorted(set(body) - self.FIELDS)
        if unknown:
            raise invalid(
                unknown[0], "unknown-field", "A link has only zaak, contactmoment, verzoek."
            )
        return body

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self._link_body(req)
        try:
            link = self.state.link_zaak(
                body.get("zaak"),  # type: ignore[arg-type]  # checked by link_zaak
                contactmoment=body.get("contactmoment"),
                verzoek=body.get("verzoek"),
                base_url=public_base(req, self.config),
                generation=req.context.generation,
            )
        except FieldErrors as exc:
            raise ValidationFailed(exc.params) from None
        _created(resp, link)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self._link_body(req)
        try:
            removed = self.state.unlink_zaak(
                body.get("zaak"),  # type: ignore[arg-type]  # checked by unlink_zaak
                contactmoment=body.get("contactmoment"),
                verzoek=body.get("verzoek"),
                generation=req.context.generation,
            )
        except FieldErrors as exc:
            raise ValidationFailed(exc.params) from None
        answer_json(resp, {"removed": removed})


class MirrorsResource(_Control):
    FIELDS = frozenset({"object", "informatieobject"})

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_object_body(req)
        unknown = sorted(set(body) - self.FIELDS)
        if unknown:
            raise invalid(unknown[0], "unknown-field", "Give only object and informatieobject.")
        if not body:
            raise invalid("nonFieldErrors", "required", "Give object, informatieobject or both.")
        for name, value in body.items():
            if not isinstance(value, str) or not value:
                raise invalid(name, "invalid", f"{name} must be a URL.")
        found = self.state.find_mirrors(
            object_url=body.get("object"), informatieobject=body.get("informatieobject")
        )
        generation = req.context.generation
        removed = [
            m
            for m in found
            if self.state.remove_mirror(_last_segment(m["url"]), generation=generation)
        ]
        answer_json(resp, {"removed": removed})


def _last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class FaultsResource(_Control):
    FIELDS = frozenset({"method", "path", "status", "body", "delay", "drop", "count"})

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        answer_json(resp, self.state.faults())

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        rule = json_object_body(req)
        unknown = sorted(set(rule) - self.FIELDS)
        if unknown:
            raise invalid(
                unknown[0], "unknown-field", f"A fault rule has only {sorted(self.FIELDS)}."
            )
        try:
            _created(
                resp,
                self.state.add_fault(
                    rule.get("method"),  # type: ignore[arg-type]  # validated by add_fault
                    rule.get("path"),  # type: ignore[arg-type]
                    status=rule.get("status"),
                    body=rule.get("body"),
                    delay=rule.get("delay", 0.0),
                    drop=rule.get("drop", False),
                    count=rule.get("count", 1),
                    generation=req.context.generation,
                ),
            )
        except FieldErrors as exc:
            raise ValidationFailed(exc.params) from None

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.state.clear_faults()
        resp.status = falcon.HTTP_204


class FaultResource(_Control):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, fault_id: str) -> None:
        if not fault_id.isdigit() or not self.state.remove_fault(int(fault_id)):
            raise ApiError(404, "not_found", f"No fault rule {fault_id}.")
        resp.status = falcon.HTTP_204


class StateResource(_Control):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        answer_json(resp, {**self.state.snapshot(), "config": self.config.summary()})


def add_routes(app: falcon.App, prefix: str, state: DrcState, config: DrcConfig) -> None:
    """Mount the control API under ``prefix`` (``/_mock/``)."""
    routes = {
        "journal": JournalResource,
        "reset": ResetResource,
        "documents": SeedDocumentResource,
        "zaken": SeedZaakResource,
        "zaken/links": ZaakLinkResource,
        "mirrors": MirrorsResource,
        "faults": FaultsResource,
        "faults/{fault_id}": FaultResource,
        "state": StateResource,
    }
    for path, resource in routes.items():
        app.add_route(prefix + path, resource(state, config))
