"""Fixtures of the robustness tests: a factory of gunicorn reference KICs (all killed at
teardown) and a strict in-process mock DRC wired for them. Loopback and free ports only."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loopback import LoopbackServer
from robustness_support import (
    CALLBACK_ID,
    CALLBACK_SECRET,
    DRC_CLIENT_ID,
    DRC_SECRET,
    DrcProcess,
    KicStarter,
)

from mock_drc.config import ALL_SCOPES as DRC_SCOPES
from mock_drc.config import DrcConfig
from mock_drc.testing import MockDrcHandle, running_mock_drc
from zgw.jwt import Client


@pytest.fixture
def start_kic(tmp_path: Path) -> Iterator[KicStarter]:
    """A factory for gunicorn KICs (``start_kic(db, drc, ...)``); all killed at teardown."""
    starter = KicStarter(tmp_path)
    try:
        yield starter
    finally:
        starter.stop_all()


@pytest.fixture
def strict_drc() -> Iterator[MockDrcHandle]:
    """An in-process mock DRC in strict mode (calls the KIC back), trusting the KIC's client."""
    config = DrcConfig(
        clients={DRC_CLIENT_ID: Client(DRC_CLIENT_ID, DRC_SECRET, DRC_SCOPES)},
        strict=True,
        callback_credentials=(CALLBACK_ID, CALLBACK_SECRET),
        callback_timeout=5.0,
    )
    with running_mock_drc(config) as drc:
        yield drc


@pytest.fixture
def drc_process(tmp_path: Path) -> Iterator[DrcProcess]:
    """A strict mock DRC in its own gunicorn process (16 threads), killed at teardown."""
    drc = DrcProcess(tmp_path)
    try:
        yield drc
    finally:
        drc.stop()


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    """Starts hostile loopback servers (``loopback(handler)``), all stopped at teardown."""
    servers: list[LoopbackServer] = []

    def start(handler: Callable[[socket.socket, threading.Event], None]) -> LoopbackServer:
        servers.append(LoopbackServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
