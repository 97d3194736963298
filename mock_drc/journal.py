"""The journal: every request the DRC endpoints received, in order, filterable.

Entries are plain JSON-ready dicts (``id, time, method, path, query, headers, body, status,
duration_ms, fault, callback``). The journal is thread-safe; ids only grow, so ``since_id``
lets a reader fetch only what arrived after its last look.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

#: Oldest entries are forgotten beyond this many, so a long-running server stays small.
DEFAULT_LIMIT = 100_000


class Journal:
    """A thread-safe, bounded, append-only list of request records."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._next_id = 1
        self._limit = limit

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append ``entry`` (given an ``id``) and return the stored copy."""
        with self._lock:
            stored = {"id": self._next_id, **entry}
            self._next_id += 1
            self._entries.append(stored)
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]
            return copy.deepcopy(stored)

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        path_contains: str | None = None,
        since_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter: method (any case), exact path, path substring,
        and ``id > since_id``."""
        wanted_method = method.upper() if method else None
        with self._lock:
            found = [
                entry
                for entry in self._entries
                if (wanted_method is None or entry["method"] == wanted_method)
                and (path is None or entry["path"] == path)
                and (path_contains is None or path_contains in entry["path"])
                and (since_id is None or entry["id"] > since_id)
            ]
            return copy.deepcopy(found)

    def clear(self) -> None:
        """Forget every entry; ids keep growing so a reader's ``since_id`` stays meaningful."""
        with self._lock:
            self._entries.clear()
