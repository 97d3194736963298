"""Falcon middleware that journals every DRC request and applies fault rules to it.

It reads the request body once (keeping it replayable for the resource), consumes a
matching fault rule (status / delay / drop), and after the response is decided records the
journal entry: method, path, query, headers (Authorization verbatim), body, status, duration,
fault and call-back. The control API under ``/_mock/`` is neither journaled nor faulted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import socket
import time
from typing import Any

import falcon

from mock_drc.paths import CONTROL_ROOT
from mock_drc.store import DrcState
from zgw.errors import ApiError, fout_body

log = logging.getLogger(__name__)

#: Bodies larger than this are not buffered (the resource answers 413 on them anyway).
MAX_BODY_BYTES = 5_000_000


def _request_socket(env: dict[str, Any]) -> socket.socket | None:
    """The client connection's socket under gunicorn or zgw.serving (wsgiref), if exposed."""
    sock = env.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    # wsgiref hands the socket's buffered reader over as wsgi.input.
    raw = getattr(env.get("wsgi.input"), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def drop_connection(sock: socket.socket) -> None:
    """Close the client connection without sending any HTTP response.

    Shutting down (rather than closing) sends a clean FIN, so the client sees the server
    disconnect before any response; the server's later write fails and is ignored.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


class RecordingMiddleware:
    """Journal + faults for every request outside the control API."""

    def __init__(self, state: DrcState) -> None:
        self.state = state

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.journaled = not req.path.startswith(CONTROL_ROOT)
        if not req.context.journaled:
            return
        req.context.started = time.perf_counter()
        req.context.time = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        # Found before the body is buffered, because buffering replaces wsgi.input.
        connection = _request_socket(req.env)
        req.context.raw_body = self._buffer_body(req)
        req.context.callback = None
        fault = self.state.take_fault(req.method, req.path)
        req.context.fault = fault
        if fault is None:
            return
        if fault["delay"]:
            time.sleep(fault["delay"])
        if fault["drop"]:
            if connection is None:
                raise ApiError(
                    502, "drop-unsupported", "This WSGI server does not expose the connection."
                )
            # Journal first: the client may look at the journal the moment it sees the drop.
            self._record(req, status=None)
            req.context.journaled = False
            drop_connection(connection)
            resp.complete = True
        elif fault["status"] is not None:
            self._answer_with_fault(req, resp, fault)

    @staticmethod
    def _buffer_body(req: falcon.Request) -> bytes:
        try:
            length = req.content_length or 0
        except falcon.HTTPInvalidHeader:
            length = 0
        if not length or length > MAX_BODY_BYTES:
            return b""
        raw = req.env["wsgi.input"].read(length)
        # Later readers (the resource) get the same bytes again.
        req.env["wsgi.input"] = io.BytesIO(raw)
        req.stream = req.env["wsgi.input"]
        return raw

    @staticmethod
    def _answer_with_fault(req: falcon.Request, resp: falcon.Response, fault: dict) -> None:
        status = fault["status"]
        body = fault["body"]
        resp.status = falcon.code_to_http_status(status)
        if body is None:
            resp.content_type = "application/problem+json"
            title = falcon.code_to_http_status(status)[4:] or "Injected fault"
            resp.text = json.dumps(
                fout_body(req, status, "injected-fault", title, f"Fault rule {fault['id']}.")
            )
        elif isinstance(body, str):
            resp.content_type = "text/plain"
            resp.text = body
        else:
            resp.content_type = "application/json"
            resp.text = json.dumps(body)
        resp.complete = True

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        if getattr(req.context, "journaled", False):
            self._record(req, status=resp.status_code)

    def _record(self, req: falcon.Request, *, status: int | None) -> None:
        started = getattr(req.context, "started", time.perf_counter())
        self.state.record(
            {
                "time": getattr(req.context, "time", None),
                "method": req.method,
                "path": req.path,
                "query": dict(req.params),
                # wsgiref reports an absent Content-Length as empty; leave such headers out.
                "headers": {name.title(): value for name, value in req.headers.items() if value},
                "body": _parse_body(getattr(req.context, "raw_body", b"")),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "fault": getattr(req.context, "fault", None),
                "callback": getattr(req.context, "callback", None),
            }
        )
