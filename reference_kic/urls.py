"""Building and reading the KIC's own resource URLs.

Outgoing URLs (``url`` fields, ``Location``, the ``object`` of a DRC mirror) start with the
configured public base URL, or with ``<scheme>://<Host>/api/v1`` of the request when none is
configured. Incoming local relation URLs are read by their path only, as the reference does:
any host, or a relative path, naming ``/<collection>/<uuid>`` at its end.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import falcon

from .kinds import COLLECTIONS

API_PREFIX = "/api/v1"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_LOCAL_PATH_RE = re.compile(r"/(" + "|".join(COLLECTIONS) + r")/([0-9a-fA-F-]{36})/?\Z")


def base_url(req: falcon.Request, public_base_url: str | None) -> str:
    """The API root of this request, without a trailing slash."""
    if public_base_url:
        return public_base_url
    host = req.get_header("Host") or req.netloc
    return f"{req.scheme}://{host}{API_PREFIX}"


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
