"""The journal: every request the DRC endpoints received, in order, filterable.

Entries are plain JSON-ready dicts (``id, time, method, path, query, headers, body, status,
duration_ms, fault, resource, callbacks, callback``). The journal is thread-safe; ids only
grow, so ``since_id`` lets a reader fetch only what arrived after its last look.

``mentions`` finds the entries of one scenario without a time window: an entry mentions a
string when the string occurs in its path, a query value, its body or its ``resource`` (the
document, mirror or zaak the request addressed or created), or when the string is a URL whose
path is the entry's path. A scenario that knows its verzoeken and documents thus finds every
request about them, the deletes of their mirrors included, even with other scenarios running.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

#: Oldest entries are forgotten beyond this many, so a long-running server stays small.
DEFAULT_LIMIT = 100_000


def _searchable(entry: dict[str, Any]) -> str:
    """The text ``mentions`` searches: path, query values, body and resource, one per line."""
    parts = [str(entry.get("path") or "")]
    for value in (entry.get("query") or {}).values():
        parts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    for key in ("body", "resource"):
        value = entry.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif value is not None:
            parts.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(parts)


def _path_of(mention: str) -> str | None:
    """The path of an absolute URL (without a trailing slash), else None."""
    try:
        split = urlsplit(mention)
    except ValueError:
        return None
    if not (split.scheme and split.netloc):
        return None
    return split.path.rstrip("/") or None


class Journal:
    """A thread-safe, bounded, append-only list of request records."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        # Each entry with its searchable text, made once when it is recorded.
        self._entries: list[tuple[dict[str, Any], str]] = []
        self._next_id = 1
        self._limit = limit

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append ``entry`` (given an ``id``) and return the stored copy."""
        searchable = _searchable(entry)
        with self._lock:
            stored = {"id": self._next_id, **entry}
            self._next_id += 1
            self._entries.append((stored, searchable))
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]
            return copy.deepcopy(stored)

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        path_contains: str | None = None,
        since_id: int | None = None,
        mentions: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter: method (any case), exact path, path substring,
        ``id > since_id``, and mentioning at least one of ``mentions`` (see the module
        docstring; an empty list matches nothing)."""
        wanted_method = method.upper() if method else None
        wanted = None if mentions is None else [m for m in mentions if m]
        paths = {p for p in map(_path_of, wanted or []) if p}
        with self._lock:
            found = [
                entry
                for entry, searchable in self._entries
                if (wanted_method is None or entry["method"] == wanted_method)
                and (path is None or entry["path"] == path)
                and (path_contains is None or path_contains in entry["path"])
                and (since_id is None or entry["id"] > since_id)
                and (
                    wanted is None
                    or entry["path"].rstrip("/") in paths
                    or any(m in searchable for m in wanted)
                )
            ]
            return copy.deepcopy(found)

    def clear(self) -> None:
        """Forget every entry; ids keep growing so a reader's ``since_id`` stays meaningful."""
        with self._lock:
            self._entries.clear()
