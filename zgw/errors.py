"""ZGW error bodies (Fout, ValidatieFout) and the Falcon glue every ZGW server here shares.

``install(app, api_version)`` gives a Falcon app the ZGW cross-cutting behaviour: an
``API-version`` header on every response, JSON-only content negotiation (406/415), Fout bodies
for every HTTP error, ValidatieFout bodies for :class:`ValidationFailed`, and a 500 Fout
(never a traceback page) for anything unexpected.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import falcon

log = logging.getLogger(__name__)

API_VERSION_HEADER = "API-version"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

# Exception class names as the ZGW reference names them in the `type` URL.
_TYPE_NAMES = {
    400: "ValidationError",
    401: "NotAuthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    412: "PreconditionFailed",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "Throttled",
    500: "APIException",
    502: "APIException",
    503: "APIException",
}
_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "error",
}
_TITLES = {
    400: "Invalid input.",
    401: "Authenticatiegegevens zijn niet opgegeven.",
    403: "Je hebt geen toestemming om deze actie uit te voeren.",
    404: "Niet gevonden.",
    405: "Methode niet toegestaan.",
    406: "Kan niet voldoen aan de opgegeven Accept header.",
    413: "Request body too large.",
    415: "Ongeldige media type in aanvraag.",
    500: "Er is een serverfout opgetreden.",
}


@dataclass(frozen=True)
class InvalidParam:
    """One entry of a ValidatieFout's ``invalidParams``: a dotted camelCase name, code, reason."""

    name: str
    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "code": self.code, "reason": self.reason}


class ApiError(Exception):
    """An error answered with a Fout body: HTTP status, ZGW ``code``, human ``detail``."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        detail: str = "",
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or code or str(status))
        self.status = status
        self.code = code or _DEFAULT_CODES.get(status, "error")
        self.detail = detail
        self.title = title or _TITLES.get(status, falcon.code_to_http_status(status)[4:])
        self.headers = headers or {}


class ValidationFailed(ApiError):
    """A 400 answered with a ValidatieFout body listing every invalid parameter."""

    def __init__(
        self, invalid_params: Iterable[InvalidParam], detail: str = "", *, code: str = "invalid"
    ) -> None:
        super().__init__(400, code, detail)
        self.invalid_params = list(invalid_params)


def invalid(name: str, code: str, reason: str) -> ValidationFailed:
    """Shorthand for a ValidationFailed with a single invalid parameter."""
    return ValidationFailed([InvalidParam(name, code, reason)])


def fout_body(
    req: falcon.Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    invalid_params: Iterable[InvalidParam] | None = None,
) -> dict[str, Any]:
    """Build a Fout (or, with ``invalid_params``, a ValidatieFout) body for ``req``."""
    body: dict[str, Any] = {
        "type": f"{req.prefix}/ref/fouten/{_TYPE_NAMES.get(status, 'APIException')}/",
        "code": code,
        "title": title,
        "status": status,
        # The spec requires a non-empty detail; fall back to the title.
        "detail": detail or title,
        "instance": f"urn:uuid:{uuid.uuid4()}",
    }
    if invalid_params is not None:
        body["invalidParams"] = [p.as_dict() for p in invalid_params]
    return body


def respond_problem(resp: falcon.Response, status: int, body: dict[str, Any]) -> None:
    """Answer ``status`` with the problem-JSON ``body``."""
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(body)
    resp.data = None


def handle_api_error(req: falcon.Request, resp: falcon.Response, ex: ApiError, params) -> None:
    """Falcon error handler: an :class:`ApiError` as its Fout or ValidatieFout."""
    listed = ex.invalid_params if isinstance(ex, ValidationFailed) else None
    body = fout_body(req, ex.status, ex.code, ex.title, ex.detail, listed)
    respond_problem(resp, ex.status, body)
    for name, value in ex.headers.items():
        resp.set_header(name, value)


def _handle_http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params
) -> None:
    status = int(ex.status_code)
    code = _DEFAULT_CODES.get(status, "error")
    title = _TITLES.get(status, str(ex.title or ""))
    detail = str(ex.description or ex.title or title)
    respond_problem(resp, status, fout_body(req, status, code, title, detail))
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)


def _handle_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    respond_problem(resp, 500, fout_body(req, 500, "error", _TITLES[500], "Internal Server Error"))


def _has_body(req: falcon.Request) -> bool:
    """Whether the request announces a body: a Content-Length above 0, or chunked framing
    (no length known in advance)."""
    if req.content_length:
        return True
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


class _ZgwMiddleware:
    """Adds the API-version header everywhere and enforces JSON-only negotiation."""

    def __init__(self, api_version: str, exempt_prefixes: tuple[str, ...]) -> None:
        self.api_version = api_version
        self.exempt_prefixes = exempt_prefixes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.path.startswith(self.exempt_prefixes):
            return
        accept = req.get_header("Accept")
        if accept and not req.client_accepts(JSON):
            raise ApiError(406, detail=f"Only {JSON} responses are available, not {accept!r}.")
        if req.method in ("POST", "PUT", "PATCH") and _has_body(req):
            media = (req.content_type or "").split(";")[0].strip().lower()
            if media not in (JSON, PROBLEM_JSON) and not media.endswith("+json"):
                raise ApiError(
                    415, detail=f"Request bodies must be {JSON}, not {media or 'untyped'!r}."
                )

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header(API_VERSION_HEADER, self.api_version)


def install(
    app: falcon.App, api_version: str, *, exempt_prefixes: tuple[str, ...] = ()
) -> falcon.App:
    """Give ``app`` the ZGW conventions. Paths under ``exempt_prefixes`` skip negotiation."""
    app.add_middleware(_ZgwMiddleware(api_version, exempt_prefixes))
    # Falcon picks the most specific handler by class hierarchy, so the order does not matter.
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(falcon.HTTPError, _handle_http_error)
    app.add_error_handler(ApiError, handle_api_error)
    return app
