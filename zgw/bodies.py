"""Reading JSON bodies that others send: request bodies of the servers, answers of peers.

One reader for both directions, so the same input is refused the same way everywhere:

- :func:`read_request_body` reads a WSGI request body whatever its framing: a
  ``Content-Length``, or ``Transfer-Encoding: chunked`` (read to the end when the server
  already decoded it, as gunicorn says with ``wsgi.input_terminated``; decoded here when the
  server hands the raw stream over, as wsgiref does). At most ``max_bytes`` are read, and
  where the server exposes the connection's socket every read waits at most the time left
  of ``timeout``, so a client that stops sending cannot hold the thread forever.
- :func:`read_response_body` reads an httpx answer up to ``max_bytes``.
- :func:`parse_json` parses either: valid UTF-8 JSON only (no ``NaN``/``Infinity``), nested at
  most ``max_depth`` deep, and no lone surrogate (``"\\ud800"``) in any string or key, because
  such text cannot be stored or sent on as UTF-8.

Every refusal is a :class:`BodyError` naming the problem and, for JSON, where it is; a
Falcon server turns it into its answer with :func:`as_api_error` (a 400 ValidatieFout on
``nonFieldErrors`` for content, 408/413 for a body that is late or too large), never a 500.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import time
from collections.abc import Mapping
from typing import Any

import httpx

from zgw.errors import ApiError, InvalidParam, ValidationFailed

#: Largest request body or remote answer read by default (bytes).
DEFAULT_MAX_BYTES = 5_000_000
#: Deepest nesting of arrays and objects accepted by default. ZGW bodies nest a few levels;
#: Python's json, copy and recursion limits start failing a few hundred levels down.
DEFAULT_MAX_DEPTH = 64
#: Longest a request body may take to arrive, by default (seconds).
DEFAULT_READ_TIMEOUT = 10.0

#: After a body was late, the connection's reads and writes wait at most this long (seconds).
LATE_ANSWER_TIMEOUT = 2.0

#: The field name a ValidatieFout gives a problem with the body as a whole.
NON_FIELD = "nonFieldErrors"

_PIECE_BYTES = 65_536
_MAX_CHUNK_LINE = 4_096
_MAX_TRAILER_LINES = 64
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """A body that cannot be used: ``status`` (for a request), ZGW ``code`` and ``detail``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def as_api_error(error: BodyError) -> ApiError:
    """The Falcon-level answer to a refused request body: a 400 ValidatieFout on
    ``nonFieldErrors`` for its content, a Fout with 408/413 for its arrival."""
    if error.status == 400:
        return ValidationFailed(
            [InvalidParam(NON_FIELD, error.code, error.detail)], error.detail, code=error.code
        )
    return ApiError(error.status, error.code, error.detail)


# -- request bodies ---------------------------------------------------------------------------


def connection_socket(env: Mapping[str, Any]) -> socket.socket | None:
    """The client connection's socket under gunicorn or wsgiref (zgw.serving), if exposed."""
    sock = env.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    # wsgiref hands the socket's buffered reader over as wsgi.input.
    raw = getattr(env.get("wsgi.input"), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _content_length(env: Mapping[str, Any]) -> int | None:
    text = str(env.get("CONTENT_LENGTH") or "").strip()
    if not text:
        return None
    if not text.isdigit() or not text.isascii():
        raise BodyError(400, "parse_error", f"Content-Length {text!r} is not a byte count.")
    return int(text)


def _is_chunked(env: Mapping[str, Any]) -> bool:
    codings = [c.strip().lower() for c in str(env.get("HTTP_TRANSFER_ENCODING") or "").split(",")]
    codings = [c for c in codings if c]
    if not codings:
        return False
    if codings != ["chunked"]:
        raise BodyError(
            400,
            "parse_error",
            f"Transfer-Encoding {', '.join(codings)!r} is not supported; send the body "
            "as is or chunked.",
        )
    return True


class _Arrival:
    """Bounds the reads of one body by a deadline, through the connection's socket timeout.

    A socket timeout bounds each receive, so it is set to the time left before every read;
    reads go through ``read1`` where the stream has it (one receive each, a true deadline),
    else through ``read`` of a piece (a bound per piece: a client dripping one byte at a time
    into one piece is bounded by the serving model, not here).
    """

    def __init__(self, env: Mapping[str, Any], timeout: float | None) -> None:
        self.timeout = timeout
        self.sock = connection_socket(env) if timeout is not None else None
        self.deadline = time.monotonic() + (timeout or 0.0)
        self.previous: float | None = self.sock.gettimeout() if self.sock is not None else None

    def before_read(self) -> None:
        if self.sock is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.late()
        self.sock.settimeout(left)

    def late(self) -> BodyError:
        if self.sock is not None:
            # The rest of the body will not be read. A server that drains it before the next
            # request on the connection (gunicorn) finds the end at once (the client is silent)
            # or gives up within the short timeout left, which also bounds sending the answer.
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RD)
            with contextlib.suppress(OSError):
                self.sock.settimeout(LATE_ANSWER_TIMEOUT)
        return BodyError(
            408, "request_timeout", f"The request body did not arrive within {self.timeout:g}s."
        )

    def restore(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(self.previous)


def read_request_body(
    env: Mapping[str, Any],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | None = DEFAULT_READ_TIMEOUT,
) -> bytes:
    """The raw body of the WSGI request ``env`` (b"" when it has none); :class:`BodyError`
    when it is too large (413), late (408) or badly framed (400)."""
    length = _content_length(env)
    chunked = _is_chunked(env)
    stream = env.get("wsgi.input")
    if stream is None or (length is None and not chunked):
        return b""
    if not chunked and length is not None and length > max_bytes:
        raise _too_large(max_bytes)
    arrival = _Arrival(env, timeout)
    try:
        if chunked and env.get("wsgi.input_terminated"):
            body = _read_to_end(stream, arrival, max_bytes)
        elif chunked:
            body = _read_chunked(stream, arrival, max_bytes)
        else:
            body = _read_exactly(stream, arrival, length or 0)
    except TimeoutError:
        raise arrival.late() from None
    except BodyError as exc:
        if exc.status == 408:
            raise
        arrival.restore()
        raise
    except OSError as exc:
        raise BodyError(400, "parse_error", f"The request body could not be read: {exc}") from None
    arrival.restore()
    return body


def _too_large(max_bytes: int) -> BodyError:
    return BodyError(413, "request_too_large", f"Request body exceeds {max_bytes} bytes.")


def _reader(stream: Any) -> Any:
    return getattr(stream, "read1", None) or stream.read


def _read_exactly(stream: Any, arrival: _Arrival, length: int, *, chunk: bool = False) -> bytes:
    read = _reader(stream)
    pieces: list[bytes] = []
    remaining = length
    while remaining > 0:
        arrival.before_read()
        piece = read(min(remaining, _PIECE_BYTES))
        if not piece:
            announced = "its chunk size" if chunk else "its Content-Length"
            raise BodyError(
                400,
                "parse_error",
                f"The request body ended after {length - remaining} of the {length} bytes "
                f"{announced} announced.",
            )
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


def _read_to_end(stream: Any, arrival: _Arrival, max_bytes: int) -> bytes:
    read = _reader(stream)
    pieces: list[bytes] = []
    size = 0
    while True:
        arrival.before_read()
        piece = read(_PIECE_BYTES)
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if size > max_bytes:
            raise _too_large(max_bytes)
        pieces.append(piece)


def _read_line(stream: Any, arrival: _Arrival) -> bytes:
    arrival.before_read()
    line = stream.readline(_MAX_CHUNK_LINE + 1)
    if not line.endswith(b"\n"):
        problem = "a line too long" if len(line) > _MAX_CHUNK_LINE else "an early end"
        raise BodyError(400, "parse_error", f"The chunked request body has {problem}.")
    return line


def _read_chunked(stream: Any, arrival: _Arrival, max_bytes: int) -> bytes:
    """Decode chunked framing (RFC 9112 section 7.1): size lines, data, trailers."""
    pieces: list[bytes] = []
    size = 0
    while True:
        size_text = _read_line(stream, arrival).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise BodyError(
                400, "parse_error", f"The chunked request body has a bad chunk size {size_text!r}."
            )
        chunk_size = int(size_text, 16)
        if chunk_size == 0:
            break
        size += chunk_size
        if size > max_bytes:
            raise _too_large(max_bytes)
        pieces.append(_read_exactly(stream, arrival, chunk_size, chunk=True))
        if _read_line(stream, arrival).strip():
            raise BodyError(400, "parse_error", "A chunk of the request body overran its size.")
    for _ in range(_MAX_TRAILER_LINES):
        if not _read_line(stream, arrival).strip():
            return b"".join(pieces)
    raise BodyError(400, "parse_error", "The chunked request body has too many trailer lines.")


# -- remote answers ---------------------------------------------------------------------------


def read_response_body(response: httpx.Response, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The body of ``response`` (best opened with ``client.stream``, under a deadline), read
    no further than ``max_bytes``; :class:`BodyError` (502) when it is larger."""
    too_large = BodyError(502, "response_too_large", f"The answer exceeds {max_bytes} bytes.")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    if response.is_stream_consumed:
        if len(response.content) > max_bytes:
            raise too_large
        return response.content
    pieces: list[bytes] = []
    size = 0
    for piece in response.iter_bytes():
        size += len(piece)
        if size > max_bytes:
            raise too_large
        pieces.append(piece)
    return b"".join(pieces)


def response_json(
    response: httpx.Response,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "The answer",
) -> Any:
    """``response``'s body read by :func:`read_response_body` and parsed by :func:`parse_json`."""
    return parse_json(
        read_response_body(response, max_bytes=max_bytes), max_depth=max_depth, what=what
    )


# -- JSON -------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(
    raw: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH, what: str = "The request body"
) -> Any:
    """``raw`` parsed as JSON; :class:`BodyError` (400 ``parse_error``) naming the problem and
    its place when it is empty, not JSON, nested deeper than ``max_depth`` or holds a lone
    surrogate."""
    if not raw.strip():
        raise BodyError(400, "parse_error", f"{what} is empty; JSON was expected.")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep(what, max_depth, "") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(400, "parse_error", f"{what} is not valid JSON: {exc}") from None
    _check_tree(value, max_depth, what)
    return value


def _too_deep(what: str, max_depth: int, place: str) -> BodyError:
    where = f" (at {_shown(place)})" if place else ""
    return BodyError(400, "parse_error", f"{what} is nested deeper than {max_depth} levels{where}.")


def _place(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _shown(place: str) -> str:
    """A place, shortened: the path into a deep value could be thousands of characters."""
    return place if len(place) <= 120 else f"{place[:60]}...{place[-40:]}"


def _flaw(what: str, place: str, problem: str) -> BodyError:
    if place:
        return BodyError(
            400, "parse_error", f"At {_shown(place)}, {what[:1].lower()}{what[1:]} has {problem}."
        )
    return BodyError(400, "parse_error", f"{what} has {problem}.")


def _bad_value(item: Any) -> str | None:
    """What is wrong with a scalar (or a key), if anything."""
    if isinstance(item, str):
        found = _SURROGATE.search(item)
        if found:
            return f"a lone surrogate (\\u{ord(found.group()):04x}), which is not Unicode text"
    elif isinstance(item, float) and not math.isfinite(item):
        return "a number out of range"
    return None


def _check_tree(value: Any, max_depth: int, what: str) -> None:
    """Depth, text and numbers of a parsed value, without recursion (it may be deep)."""
    # (value, its depth, its parent's place, its key there); places are spelled out only for
    # containers and for the culprit, so a long flat list costs no strings.
    todo: list[tuple[Any, int, str, str | int | None]] = [(value, 0, "", None)]
    while todo:
        item, depth, parent, key = todo.pop()
        if not isinstance(item, (dict, list)):
            problem = _bad_value(item)
            if problem:
                place = parent if key is None else _place(parent, key)
                raise _flaw(what, place, problem)
            continue
        place = parent if key is None else _place(parent, key)
        if depth + 1 > max_depth:
            raise _too_deep(what, max_depth, place)
        if isinstance(item, dict):
            for name, child in item.items():
                problem = _bad_value(name)
                if problem:
                    raise _flaw(what, place, f"a key with {problem}")
                todo.append((child, depth + 1, place, name))
        else:
            todo.extend((child, depth + 1, place, n) for n, child in enumerate(item))
