"""Building and reading the KIC's own resource URLs.

Outgoing URLs (``url`` fields, ``Location``, the ``object`` of a DRC mirror) start with the
configured public base URL, or with ``<scheme>://<Host>/api/v1`` of the request when none is
configured. Incoming local relation URLs are read by their path only, as the reference does:
any host, or a relative path, naming ``/<collection>/<uuid>`` at its end.

A Host header is the client's to choose, and the DRC calls the ``object`` URL of a mirror
back with its own token: a KIC that built URLs from any Host would let a client with create
rights send that token to a server of its own (issue 14). So without a public base URL only
these Hosts build URLs, every other one gets 400 ``host-not-allowed``:

- the address the connection reached (the local end of its socket), on that port;
- ``localhost``, ``127.0.0.1`` and ``[::1]`` on the same port (the server's own);
- the configured ``allowed_hosts``: ``name`` on any port, ``name:port`` on that one.

Where the server does not expose the socket, its ``SERVER_NAME`` and ``SERVER_PORT`` stand
for the address (never taken from the Host header then); where neither is known (a Unix
socket), the loopback names match on any port.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import falcon

from zgw.bodies import connection_socket
from zgw.errors import ApiError

from .config import split_host
from .kinds import COLLECTIONS

API_PREFIX = "/api/v1"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_LOCAL_PATH_RE = re.compile(r"/(" + "|".join(COLLECTIONS) + r")/([0-9a-fA-F-]{36})/?\Z")


#: Names of this machine that are always allowed (on the server's own port).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url(
    req: falcon.Request, public_base_url: str | None, allowed_hosts: tuple[str, ...] = ()
) -> str:
    """The API root of this request, without a trailing slash; an :class:`ApiError` 400
    ``host-not-allowed`` when it would have to come from a Host not allowed (see above)."""
    if public_base_url:
        return public_base_url
    local = local_address(req.env)
    host_header = req.get_header("Host")
    if not host_header:
        if local is None:
            raise _host_not_allowed("", "the request has no Host header")
        return f"{req.scheme}://{_netloc(*local)}{API_PREFIX}"
    parsed = split_host(host_header)
    if parsed is None:
        raise _host_not_allowed(host_header, "it is not a host[:port]")
    host, port = parsed
    if not host_allowed(host, port or _DEFAULT_PORTS.get(req.scheme), local, allowed_hosts):
        raise _host_not_allowed(host_header, "it is not an address of this KIC")
    return f"{req.scheme}://{_netloc(host, port)}{API_PREFIX}"


def host_allowed(
    host: str,
    port: int | None,
    local: tuple[str, int] | None,
    allowed_hosts: tuple[str, ...] = (),
) -> bool:
    """Whether ``host:port`` (lower case, IPv6 without brackets) may build URLs; ``local`` is
    the address the connection reached (None when unknown)."""
    for entry in allowed_hosts:
        allowed_host, allowed_port = split_host(entry) or ("", None)
        if host == allowed_host and allowed_port in (None, port):
            return True
    if local is None:
        return host in LOOPBACK_HOSTS
    local_host, local_port = local
    return port == local_port and (host == local_host or host in LOOPBACK_HOSTS)


def local_address(env: Mapping[str, Any]) -> tuple[str, int] | None:
    """The (address, port) the client's connection reached, or None when unknown."""
    sock = connection_socket(env)
    if sock is not None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return None
        try:
            address, port = sock.getsockname()[:2]
        except OSError:
            return None
        return _unmapped(str(address).lower()), int(port)
    name, port = str(env.get("SERVER_NAME") or ""), str(env.get("SERVER_PORT") or "")
    parsed = split_host(f"[{name}]" if ":" in name else name) if name else None
    if parsed is None or not port.isdigit():
        return None
    return _unmapped(parsed[0]), int(port)


def _unmapped(address: str) -> str:
    """An IPv4-mapped IPv6 address (a dual-stack socket's view of IPv4) as plain IPv4."""
    return (
        address.removeprefix("::ffff:")
        if address.startswith("::ffff:") and "." in address
        else address
    )


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def _host_not_allowed(host: str, why: str) -> ApiError:
    return ApiError(
        400,
        "host-not-allowed",
        f"Host {host!r} cannot be used to build this KIC's URLs: {why}. Set public_base_url, "
        "or add the host to allowed_hosts (--allowed-host, KIC_ALLOWED_HOSTS).",
    )


def resource_url(base: str, collection: str, uuid: str) -> str:
    """The URL of one resource under the API root ``base``."""
    return f"{base}/{collection}/{uuid}"


def parse_local(url: str) -> tuple[str, str] | None:
    """``(collection, uuid)`` named by the end of a URL's path, or None."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    match = _LOCAL_PATH_RE.search(path)
    if not match:
        return None
    uuid = match.group(2).lower()
    return (match.group(1), uuid) if UUID_RE.match(uuid) else None


def netloc(url: str) -> str:
    """The host[:port] part of a URL, lower-cased ('' when it has none)."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""
