"""Running a mock DRC in-process on a free loopback port, for tests, the harness and demos."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mock_drc.app import create_app
from mock_drc.callback import CallbackChecker
from mock_drc.config import DrcConfig
from mock_drc.paths import CONTROL_ROOT, DOCUMENTS_ROOT, ZAKEN_ROOT
from mock_drc.store import DrcState
from zgw.jwt import bearer
from zgw.serving import serve_in_thread


@dataclass(frozen=True)
class MockDrcHandle:
    """A running mock DRC: its base ``url`` (no trailing slash), API roots, state and config."""

    url: str
    state: DrcState
    config: DrcConfig

    @property
    def documents_root(self) -> str:
        return self.url + DOCUMENTS_ROOT

    @property
    def zaken_root(self) -> str:
        return self.url + ZAKEN_ROOT

    @property
    def control_root(self) -> str:
        return self.url + CONTROL_ROOT

    def create_document(self, **fields: Any) -> dict[str, Any]:
        """Seed a document (see :meth:`DrcState.create_document`)."""
        return self.state.create_document(**fields)

    def authorization(self, client_id: str | None = None) -> str:
        """An ``Authorization`` header value for a configured client (the first by default)."""
        clients = self.config.clients
        client = clients[client_id] if client_id else next(iter(clients.values()))
        return bearer(client.client_id, client.secret)


@contextlib.contextmanager
def running_mock_drc(
    config: DrcConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[MockDrcHandle]:
    """Serve a fresh mock DRC (threaded wsgiref) for the duration of the block.

    Each call serves its own DRC (own state, journal, faults and call-back client), so a
    test or the harness can run several side by side in one process.
    """
    config = config or DrcConfig()
    state = DrcState()
    callbacks = CallbackChecker()
    app = create_app(config, state, callbacks=callbacks)
    try:
        with serve_in_thread(app, host, port) as server:
            state.bind(config.public_base_url or server.url)
            yield MockDrcHandle(server.url, state, config)
    finally:
        callbacks.close()
