"""The HTTP request of a scenario step: built from the rendered step and the spec.

A ``call:`` step takes its method and path template from the operation and fills in the
``path`` parameters; a ``request:`` step gives method and path itself (and is matched to an
operation when the spec has one). Query, body, content type, the Authorization of the step's
``auth`` (:meth:`harness.config.RunConfig.authorization`) and extra headers complete it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from harness.config import RunConfig
from harness.spec import Operation, Spec
from harness.templating import TemplateError


@dataclass
class StepRequest:
    """One HTTP step, ready to send; ``operation`` is None outside the spec."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    operation: Operation | None


def build_request(kind: str, data: dict[str, Any], spec: Spec, config: RunConfig) -> StepRequest:
    """The request of a rendered ``call`` or ``request`` step (``kind``) against the target.

    Raises :class:`~harness.templating.TemplateError` for an unknown ``auth`` and
    :class:`~harness.config.MissingCapability` for a narrow client the run lacks.
    """
    if kind == "call":
        operation: Operation | None = spec.operation(data["call"])
        method, path = operation.method, operation.path
        for name, value in (data.get("path") or {}).items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
    else:
        method = str(data["request"]["method"]).upper()
        path = str(data["request"]["path"])
        operation = spec.find_operation(method, path)
    url = config.target + (path if path.startswith("/") else "/" + path)
    if data.get("query"):
        url += "?" + urlencode({k: _query_value(v) for k, v in data["query"].items()}, doseq=True)
    content, headers = _body(data)
    try:
        authorization = config.authorization(data.get("auth", "default"))
    except ValueError as exc:
        raise TemplateError(str(exc)) from None
    if authorization is not None:
        headers["Authorization"] = authorization
    for name, value in (data.get("headers") or {}).items():
        for existing in [h for h in headers if h.lower() == str(name).lower()]:
            del headers[existing]
        headers[str(name)] = str(value)
    return StepRequest(method, url, headers, content, operation)


def _body(data: dict[str, Any]) -> tuple[bytes | None, dict[str, str]]:
    """The body of the step and the headers that describe it (Accept always)."""
    headers = {"Accept": "application/json"}
    content = None
    if "body" in data:
        content = json.dumps(data["body"]).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif "raw_body" in data:
        content = str(data["raw_body"]).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if "content_type" in data:
        headers["Content-Type"] = str(data["content_type"])
    return content, headers


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(v) for v in value]
    return "" if value is None else str(value)
