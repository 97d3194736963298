"""Small helpers the mock DRC's resources share: base URLs, query checks, JSON bodies.

Request bodies are read once, by :class:`mock_drc.recording.RecordingMiddleware`, into
``req.context.raw_body``; :func:`json_object_body` parses them with the shared reader of
:mod:`zgw.bodies` (depth limit, no lone surrogates), so bad JSON is a 400 ValidatieFout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import falcon

from mock_drc.config import DrcConfig
from mock_drc.fields import FieldErrors
from zgw.bodies import BodyError, as_api_error, parse_json
from zgw.errors import ValidationFailed, invalid


def public_base(req: falcon.Request, config: DrcConfig) -> str:
    """Scheme + host (+ prefix) under which this server's URLs are handed out."""
    return (config.public_base_url or req.prefix).rstrip("/")


def reject_unknown_params(req: falcon.Request, allowed: Iterable[str]) -> None:
    """400 ``unknown-parameters`` (like a ZGW API) for query parameters outside ``allowed``."""
    unknown = sorted(set(req.params) - set(allowed))
    if unknown:
        raise invalid(
            "nonFieldErrors",
            "unknown-parameters",
            f"Onbekende query parameters: {', '.join(unknown)}",
        )


def single_param(req: falcon.Request, name: str) -> str | None:
    """The one value of query parameter ``name``; 400 when it is given more than once."""
    value = req.params.get(name)
    if isinstance(value, list):
        raise invalid(name, "invalid", f"Give query parameter {name!r} only once.")
    return value


def answer_json(resp: falcon.Response, body: Any, status: int = 200) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body)


def json_object_body(req: falcon.Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; 400 ValidatieFout naming what is wrong."""
    raw: bytes = getattr(req.context, "raw_body", b"")
    if empty_ok and not raw.strip():
        return {}
    try:
        data = parse_json(raw)
    except BodyError as exc:
        raise as_api_error(exc) from None
    if not isinstance(data, dict):
        raise invalid(
            "nonFieldErrors",
            "invalid",
            f"Invalid data. Expected a JSON object, but got {type(data).__name__}.",
        )
    return data


def as_validation_failed(error: FieldErrors) -> ValidationFailed:
    return ValidationFailed(error.params)
