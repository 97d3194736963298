"""Falcon middleware that reads every request body, journals every DRC request and applies
fault rules to it.

It notes the state's generation (see :mod:`mock_drc.store`), reads the request body once with
:func:`zgw.bodies.read_request_body` (chunked or not, bounded in size and time; a body that is
too large, late or badly framed is answered at once), consumes a matching fault rule (status /
delay / drop), and after the response is decided records the journal entry: method, path,
query, headers (Authorization verbatim), body, status, duration, fault, the resource the
request addressed and the call-backs it made. The control API under ``/_mock/`` is neither
journaled nor faulted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import logging
import socket
import time
from typing import Any

import falcon

from mock_drc.config import DrcConfig
from mock_drc.paths import CONTROL_ROOT
from mock_drc.store import DrcState
from zgw.bodies import BodyError, as_api_error, connection_socket, parse_json, read_request_body
from zgw.errors import ApiError, fout_body
from zgw.wsgi_front import DROP_CONNECTION

log = logging.getLogger(__name__)

#: Bodies larger than this are refused with 413.
MAX_BODY_BYTES = 5_000_000


def drop_connection(sock: socket.socket) -> None:
    """Close the client connection without sending any HTTP response.

    Shutting down (rather than closing) sends a clean FIN, so the client sees the server
    disconnect before any response; the server's later write fails and is ignored.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def journal_body(raw: bytes) -> Any:
    """The body as the journal keeps it: JSON the DRC would accept, else text, else None.

    Parsed by the same reader as the resources, so what is journaled can always be served
    again (never too deep for ``json.dumps`` or ``copy.deepcopy``).
    """
    if not raw:
        return None
    try:
        return parse_json(raw)
    except BodyError:
        return raw.decode("utf-8", errors="replace")


class RecordingMiddleware:
    """Body reading for every request; journal + faults for those outside the control API."""

    def __init__(self, state: DrcState, config: DrcConfig) -> None:
        self.state = state
        self.config = config

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        context = req.context
        context.generation = self.state.generation
        context.journaled = not req.path.startswith(CONTROL_ROOT)
        context.started = time.perf_counter()
        context.time = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        context.raw_body = b""
        context.fault = None
        context.resource = None
        context.callbacks = []
        # Found before the body is read, because reading replaces wsgi.input.
        connection = connection_socket(req.env)
        # Under zgw.wsgi_front (mock-drc serve) the front closes the connection itself.
        drop = req.env.get(DROP_CONNECTION)
        if not callable(drop) and connection is not None:
            drop = functools.partial(drop_connection, connection)
        try:
            context.raw_body = read_request_body(
                req.env, max_bytes=MAX_BODY_BYTES, timeout=self.config.body_timeout
            )
        except BodyError as exc:
            raise as_api_error(exc) from None
        # Later readers of the stream get the same bytes again.
        req.env["wsgi.input"] = io.BytesIO(context.raw_body)
        req.stream = req.env["wsgi.input"]
        if not context.journaled:
            return
        fault = self.state.take_fault(req.method, req.path, generation=context.generation)
        context.fault = fault
        if fault is None:
            return
        if fault["delay"]:
            time.sleep(fault["delay"])
        if fault["drop"]:
            if not callable(drop):
                raise ApiError(
                    502, "drop-unsupported", "This WSGI server does not expose the connection."
                )
            # Journal first: the client may look at the journal the moment it sees the drop.
            self._record(req, status=None)
            context.journaled = False
            drop()
            resp.complete = True
        elif fault["status"] is not None:
            self._answer_with_fault(req, resp, fault)

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
        context = req.context
        callbacks = getattr(context, "callbacks", [])
        self.state.record(
            {
                "time": getattr(context, "time", None),
                "method": req.method,
                "path": req.path,
                "query": dict(req.params),
                # wsgiref reports an absent Content-Length as empty; leave such headers out.
                "headers": {name.title(): value for name, value in req.headers.items() if value},
                "body": journal_body(getattr(context, "raw_body", b"")),
                "status": status,
                "duration_ms": round(
                    (time.perf_counter() - getattr(context, "started", time.perf_counter())) * 1000,
                    3,
                ),
                "fault": getattr(context, "fault", None),
                "resource": getattr(context, "resource", None),
                "callbacks": callbacks,
                # The last call-back, as entries showed it before they listed them all.
                "callback": callbacks[-1] if callbacks else None,
            },
            generation=getattr(context, "generation", None),
        )
