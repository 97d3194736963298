"""Falcon resources of the reference KIC: a collection and an item resource per kind,
the API root map and the served spec.

Order of checks per request, as the reference: 405 (Falcon, before auth) -> 403 (token,
scope) -> 400 unknown query parameters / 404 unknown uuid -> 400 validation.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import falcon
import yaml

from zgw.bodies import BodyError, as_api_error, parse_json, read_request_body
from zgw.errors import (
    ApiError,
    InvalidParam,
    ValidationFailed,
    fout_body,
    handle_api_error,
    invalid,
    respond_problem,
)

from . import auth
from .config import KicConfig
from .kinds import COLLECTIONS, Kind
from .rendering import Renderer
from .rules import NON_FIELD
from .service import KicService, not_found
from .spec import load_spec
from .storage import Store
from .urls import UUID_RE, base_url, netloc, parse_local
from .validation import is_url

JSON = "application/json"
#: Where the ``list-url-internal`` and ``location-internal`` defects point: an address a
#: client never used (a KIC behind a proxy handing out its inner one).
INTERNAL_BASE = "http://kic.internal/api/v1"


class Context:
    """What every resource shares: config, store, service, authorizer."""

    def __init__(self, config: KicConfig, store: Store, service: KicService) -> None:
        self.config = config
        self.store = store
        self.service = service
        self.auth = auth.Authorizer(config)
        self.defects = config.defects
        #: Rows deleted by DELETE, by collection (only kept for the list-shows-deleted defect).
        self.deleted: dict[str, list[dict[str, Any]]] = {}

    def base(self, req: falcon.Request) -> str:
        return base_url(req, self.config.public_base_url, self.config.allowed_hosts)

    def read_body(self, req: falcon.Request) -> Any:
        """The request body as JSON, read and parsed by zgw.bodies (any framing; size, depth
        and text checked): every refusal is a 4xx, never a 500."""
        try:
            return parse_json(read_request_body(req.env))
        except BodyError as exc:
            if exc.status != 400:  # too large (413) or late (408)
                raise as_api_error(exc) from None
            if self.defects.error_500_on_bad_input:
                raise RuntimeError("defect 500-on-bad-input: unparsed body") from None
            if self.defects.parse_error_fout:
                raise ApiError(400, exc.code, exc.detail) from None
            # The reference's code, in the ValidatieFout the spec documents for a 400 (the
            # reference itself leaves invalidParams out).
            raise as_api_error(exc) from None


def _json(resp: falcon.Response, body: Any, status: int = 200) -> str:
    text = json.dumps(body)
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = JSON
    resp.text = text
    return text


def _last(value: Any) -> str:
    """Repeated query parameters: the last value wins (as the reference)."""
    return value[-1] if isinstance(value, list) else value


class _KindResource:
    """A resource serving one kind, rendering its rows with ``render``."""

    def __init__(self, kind: Kind, ctx: Context, render: Renderer) -> None:
        self.kind = kind
        self.ctx = ctx
        self.render = render


class CollectionResource(_KindResource):
    """``/api/v1/<collection>``: list (with filters) and create."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.ctx.auth.require(req, auth.READ)
        base = self.ctx.base(req)
        where = self._filters(req, base)
        defects = self.ctx.defects
        loose = self._loosened(where) if defects.filter_inexact and where else {}
        rows = [] if where is None else self.ctx.store.list(self.kind.collection, where)
        if loose:
            rows = [r for r in rows if all(v in str(r.get(c)).lower() for c, v in loose.items())]
        if defects.list_shows_deleted and where is not None:
            gone = self.ctx.deleted.get(self.kind.collection, [])
            rows += [r for r in gone if all(r.get(c) == v for c, v in where.items())]
        render = self.render
        shown = INTERNAL_BASE if defects.list_url_internal else base
        _json(resp, [render(row, shown) for row in rows])

    def _loosened(self, where: dict[str, str]) -> dict[str, str]:
        """Defect filter-inexact: the text filters of ``where`` taken out, lower-cased, to be
        matched as substrings."""
        texts = {f.column for f in (self.kind.filters or {}).values() if f.mode == "exact"}
        return {c: where.pop(c).lower() for c in list(where) if c in texts}

    def _filters(self, req: falcon.Request, base: str) -> dict[str, str] | None:
        """Column filters for the query, or None when they can match nothing."""
        filters = self.kind.filters
        if filters is None:
            return {}
        unknown = sorted(set(req.params) - filters.keys())
        if unknown and not self.ctx.defects.unknown_parameters_ignored:
            raise invalid(
                NON_FIELD, "unknown-parameters", f"Onbekende query parameters: {', '.join(unknown)}"
            )
        where: dict[str, str] = {}
        matches_nothing = False
        for name, spec in filters.items():
            if name not in req.params:
                continue
            value = _last(req.params[name])
            if spec.validate_url and not is_url(value):
                raise invalid(name, "invalid", "Voer een geldige URL in.")
            if spec.mode == "exact":
                where[spec.column] = value
                continue
            parsed = parse_local(value)
            if parsed is not None and parsed[0] != spec.target:
                raise invalid(name, "invalid-type", f"De URL verwijst niet naar een {spec.target}.")
            if parsed is None or netloc(value) != netloc(base):
                matches_nothing = True
                continue
            where[spec.column] = parsed[1]
        if self.ctx.defects.filter_ignored:
            return {}
        return None if matches_nothing else where

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        late = self.ctx.defects.auth_after_write
        if self.kind.drc_mirrored and self.ctx.defects.drc_before_checks:
            body = self.ctx.read_body(req)
            self.ctx.service.drc.mirror_before_checks(body)
            self.ctx.auth.require(req, auth.CREATE)
        else:
            if not late:
                self.ctx.auth.require(req, auth.CREATE)
            body = self.ctx.read_body(req)
        if (
            self.ctx.defects.error_500_on_bad_input
            and self.kind.collection == "klanten"
            and isinstance(body, dict)
            and "subjectType" not in body
        ):
            raise RuntimeError("defect 500-on-bad-input: no subjectType")
        base = self.ctx.base(req)
        row = self.ctx.service.create(self.kind, body, base)
        if late:  # defect auth-after-write: the object is stored already
            self.ctx.auth.require(req, auth.CREATE)
        created = self.render(row, base)
        status = 200 if self.ctx.defects.create_status_200 else 201
        _json(resp, created, status)
        if self.ctx.defects.location_internal:
            resp.set_header("Location", self.render(row, INTERNAL_BASE)["url"])
        elif not self.ctx.defects.location_missing:
            resp.set_header("Location", created["url"])


def _etag(text: str) -> str:
    return '"' + hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest() + '"'


def _if_none_match(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags


class ItemResource(_KindResource):
    """``/api/v1/<collection>/{uuid}``: read (ETag/304) and delete."""

    def _uuid(self, uuid: str) -> str:
        # Malformed uuids are simply unknown resources (404), as in the reference.
        if not UUID_RE.match(uuid):
            raise not_found()
        return uuid

    def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        self.ctx.auth.require(req, auth.READ)
        row = self.ctx.store.get(self.kind.collection, self._uuid(uuid))
        if row is None:
            raise not_found()
        text = _json(resp, self.render(row, self.ctx.base(req)))
        if self.ctx.defects.content_type_missing:
            resp.content_type = ""  # None would give Falcon's default
        if self.ctx.defects.etag_missing:
            return
        etag = _etag(uuid if self.ctx.defects.etag_stale else text)
        resp.set_header("ETag", etag)
        if _if_none_match(req.get_header("If-None-Match"), etag):
            resp.status = falcon.HTTP_304
            resp.text = None
            resp.content_type = None

    def on_delete(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        if self.kind.drc_mirrored and self.ctx.defects.drc_before_checks:
            self.ctx.service.drc.unmirror_before_checks(uuid)
        late = self.ctx.defects.auth_after_write
        if not late:
            self.ctx.auth.require(req, auth.DELETE)
        keep = self.ctx.defects.list_shows_deleted
        row = self.ctx.store.get(self.kind.collection, uuid) if keep else None
        self.ctx.service.delete(self.kind, self._uuid(uuid), self.ctx.base(req))
        if row is not None:
            self.ctx.deleted.setdefault(self.kind.collection, []).append(row)
        if late:  # defect auth-after-write: the object is gone already
            self.ctx.auth.require(req, auth.DELETE)
        resp.status = falcon.HTTP_204
        resp.content_type = None


class UpdatableItemResource(ItemResource):
    """Items of klanten, contactmomenten and verzoeken also take PUT and PATCH."""

    def _update(self, req: falcon.Request, resp: falcon.Response, uuid: str, partial: bool) -> None:
        late = self.ctx.defects.auth_after_write
        if not late:
            self.ctx.auth.require(req, auth.UPDATE)
        uuid = self._uuid(uuid)
        if not self.ctx.store.exists(self.kind.collection, uuid):
            raise not_found()
        body = self.ctx.read_body(req)
        base = self.ctx.base(req)  # before the update: a refused Host must change nothing
        row = self.ctx.service.update(self.kind, uuid, body, partial=partial)
        if late:  # defect auth-after-write: the change is stored already
            self.ctx.auth.require(req, auth.UPDATE)
        _json(resp, self.render(row, base))

    def on_put(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        self._update(req, resp, uuid, partial=False)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        self._update(req, resp, uuid, partial=True)


class RootResource:
    """``/api/v1/``: a map of the eight collections; no authorization needed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        base = self.ctx.base(req)
        _json(resp, {name: f"{base}/{name}" for name in COLLECTIONS})


class SchemaResource:
    """``/api/v1/schema/openapi.yaml|json``: the contract with an absolute servers URL."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[tuple[str, str], str] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response, fmt: str) -> None:
        if fmt not in ("yaml", "json"):
            raise not_found()
        base = self.ctx.base(req)
        key = (base, fmt)
        text = self._cache.get(key)
        if text is None:
            spec = dict(load_spec())
            spec["servers"] = [{"url": base}]
            if fmt == "json":
                text = json.dumps(spec, ensure_ascii=False)
            else:
                text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
            if len(self._cache) < 16:
                self._cache[key] = text
        resp.content_type = JSON if fmt == "json" else "application/vnd.oai.openapi"
        resp.text = text
        resp.set_header("X-OAS-Version", str(load_spec().get("openapi", "3.0.0")))


def validation_422(
    req: falcon.Request, resp: falcon.Response, ex: ValidationFailed, params
) -> None:
    """Error handler for the ``validation-422`` defect: ValidatieFout bodies with status 422."""
    body = fout_body(req, 422, ex.code, ex.title, ex.detail, ex.invalid_params)
    resp.status = falcon.code_to_http_status(422)
    resp.content_type = "application/problem+json"
    resp.text = json.dumps(body)


def invalid_params_unnamed(
    req: falcon.Request, resp: falcon.Response, ex: ValidationFailed, params
) -> None:
    """Error handler for the ``invalid-params-unnamed`` defect: no field is named."""
    unnamed = [InvalidParam(NON_FIELD, p.code, p.reason) for p in ex.invalid_params]
    body = fout_body(req, 400, ex.code, ex.title, ex.detail, unnamed)
    resp.status = falcon.HTTP_400
    resp.content_type = "application/problem+json"
    resp.text = json.dumps(body)


# -- the defects of block E (reference_kic/defects.py): error handlers and a middleware --


def not_found_500(req: falcon.Request, resp: falcon.Response, ex: ApiError, params) -> None:
    """Error handler for the ``not-found-500`` defect: a 404 of the API comes out as a 500
    (a KIC that uses the object it did not find); every other ApiError as usual."""
    if ex.status == 404:
        body = fout_body(req, 500, "error", "Server error", "Internal Server Error")
        respond_problem(resp, 500, body)
        return
    handle_api_error(req, resp, ex, params)


def unserved_method_404(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params
) -> None:
    """Error handler for the ``unserved-method-404`` defect: a 405 comes out as a 404."""
    respond_problem(resp, 404, fout_body(req, 404, "not_found", "Niet gevonden.", "Niet gevonden."))


class MediaTypeIgnored:
    """Middleware of the ``media-type-ignored`` defect: before the JSON-only negotiation sees
    the request, its Accept and Content-Type are made JSON, so nothing is a 406 or a 415."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.get_header("Accept"):
            req.env["HTTP_ACCEPT"] = JSON
        if req.content_type:
            # Falcon reads CONTENT_TYPE once, into the attribute the negotiation looks at.
            req.env["CONTENT_TYPE"] = req.content_type = JSON
