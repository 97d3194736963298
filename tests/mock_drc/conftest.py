"""Shared fixtures of the mock DRC tests: auth headers, a KIC double, a seeded document.

The ``mock_drc`` fixture itself comes from the ``mock_drc.pytest_plugin`` plugin.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from pytest_httpserver import HTTPServer

from mock_drc.testing import MockDrcHandle

KIC_ROOT_PATH = "/kic/api/v1/"
RELATIONS_PATH = KIC_ROOT_PATH + "verzoekinformatieobjecten"


class KicDouble:
    """A KIC stand-in on pytest-httpserver that answers the DRC's call-back as told."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.root = server.url_for(KIC_ROOT_PATH)

    def new_verzoek(self) -> str:
        return f"{self.root}verzoeken/{uuid.uuid4()}"

    def lists(self, verzoek: str, document: str, *, count: int = 1) -> None:
        """Answer the call-back for (verzoek, document) with ``count`` relations."""
        relations = [
            {
                "url": f"{self.root}verzoekinformatieobjecten/{uuid.uuid4()}",
                "verzoek": verzoek,
                "informatieobject": document,
            }
            for _ in range(count)
        ]
        self.server.expect_request(
            RELATIONS_PATH,
            method="GET",
            query_string={"verzoek": verzoek, "informatieobject": document},
        ).respond_with_json(relations)

    def answers(self, status: int, body: Any = None, *, text: str | None = None) -> None:
        """Answer every call-back with ``status`` and a JSON ``body`` (or raw ``text``)."""
        handler = self.server.expect_request(RELATIONS_PATH, method="GET")
        if text is not None:
            handler.respond_with_data(text, status=status, content_type="text/plain")
        else:
            handler.respond_with_json(body if body is not None else {}, status=status)

    def requests(self) -> list[Any]:
        return [request for request, _ in self.server.log]


@pytest.fixture(autouse=True)
def _short_jwt_secrets_are_fine() -> Iterator[None]:
    # ZGW secrets like "kic-secret" are short by convention; zgw.jwt silences pyjwt's warning
    # at import, but pytest resets warning filters per test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        yield


@pytest.fixture
def kic(httpserver: HTTPServer) -> KicDouble:
    return KicDouble(httpserver)


@pytest.fixture
def auth(mock_drc: MockDrcHandle) -> dict[str, str]:
    return {"Authorization": mock_drc.authorization()}


@pytest.fixture
def http(mock_drc: MockDrcHandle, auth: dict[str, str]) -> Iterator[httpx.Client]:
    """An httpx client on the mock DRC's base URL, authenticated as ``kic``."""
    with httpx.Client(base_url=mock_drc.url, headers=auth, timeout=10) as client:
        yield client


@pytest.fixture
def document(mock_drc: MockDrcHandle) -> dict[str, Any]:
    return mock_drc.create_document()
