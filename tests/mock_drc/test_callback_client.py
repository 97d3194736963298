"""The call-back's HTTP client: one per checker (one checker per mock DRC), created lazily,
shared safely by threads, and still behaving like a fresh client per call (no cookies carried
over, no redirects followed, a fresh JWT each time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from loopback import LoopbackServer, drip_body
from pytest_httpserver import HTTPServer

from mock_drc import callback
from mock_drc.callback import CallbackChecker
from mock_drc.config import DrcConfig
from mock_drc.testing import running_mock_drc
from tests.mock_drc.conftest import RELATIONS_PATH
from zgw.jwt import Client, verify_authorization

CREDENTIALS = ("mock-drc", "mock-drc-secret")


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Client]:
    """Every client the call-back code builds, in order."""
    made: list[httpx.Client] = []
    real = callback._new_client

    def counting() -> httpx.Client:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(callback, "_new_client", counting)
    return made


@pytest.fixture
def checker() -> Iterator[CallbackChecker]:
    checker = CallbackChecker()
    yield checker
    checker.close()


def _ask(checker: CallbackChecker, verzoek: str, document: str) -> callback.CallbackResult:
    return checker.list_verzoek_relation(verzoek, document, credentials=CREDENTIALS, timeout=5)


def test_the_client_is_created_on_first_use_and_then_reused(
    checker: CallbackChecker, kic: Any, created: list[httpx.Client]
) -> None:
    assert created == []  # nothing built before a call-back is needed
    verzoek, document = kic.new_verzoek(), "https://drc.example.com/documenten/1"
    kic.lists(verzoek, document)
    results = [_ask(checker, verzoek, document) for _ in range(5)]
    assert [r.outcome for r in results] == [callback.LISTED] * 5
    assert len(created) == 1
    for request in kic.requests():  # the DRC's own JWT on every call-back, as before
        client = verify_authorization(
            request.headers["Authorization"], {"mock-drc": Client(*CREDENTIALS)}
        )
        assert client.client_id == "mock-drc"


def test_threads_share_one_client(
    checker: CallbackChecker, kic: Any, created: list[httpx.Client]
) -> None:
    verzoek, document = kic.new_verzoek(), "https://drc.example.com/documenten/2"
    kic.lists(verzoek, document)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _ask(checker, verzoek, document), range(40)))
    assert {r.outcome for r in results} == {callback.LISTED}
    assert len(created) == 1
    assert len(kic.requests()) == 40


def test_close_closes_the_client_and_a_later_call_back_builds_a_new_one(
    checker: CallbackChecker, kic: Any, created: list[httpx.Client]
) -> None:
    verzoek, document = kic.new_verzoek(), "https://drc.example.com/documenten/3"
    kic.lists(verzoek, document)
    _ask(checker, verzoek, document)
    checker.close()
    assert created[0].is_closed
    assert _ask(checker, verzoek, document).outcome == callback.LISTED
    assert len(created) == 2 and not created[1].is_closed
    checker.close()
    checker.close()  # closing twice is harmless


def test_cookies_a_kic_sets_are_not_sent_on_later_call_backs(
    checker: CallbackChecker, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(RELATIONS_PATH).respond_with_json(
        [{"url": "x"}], headers={"Set-Cookie": "session=abc; Path=/"}
    )
    verzoek = httpserver.url_for("/kic/api/v1/verzoeken/1")
    _ask(checker, verzoek, "https://drc.example.com/documenten/4")
    _ask(checker, verzoek, "https://drc.example.com/documenten/4")
    assert [r.headers.get("Cookie") for r, _ in httpserver.log] == [None, None]


def test_a_redirect_is_not_followed(checker: CallbackChecker, httpserver: HTTPServer) -> None:
    httpserver.expect_request(RELATIONS_PATH).respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    result = _ask(checker, httpserver.url_for("/kic/api/v1/verzoeken/1"), "https://d/5")
    assert result.status == 302 and result.outcome == callback.INVALID_RESPONSE
    assert [r.path for r, _ in httpserver.log] == [RELATIONS_PATH]


def test_strict_mirror_creates_of_one_drc_share_its_client(
    kic: Any, created: list[httpx.Client]
) -> None:
    with running_mock_drc(DrcConfig()) as drc:
        for _ in range(3):
            document = drc.create_document()
            verzoek = kic.new_verzoek()
            kic.lists(verzoek, document["url"])
            response = httpx.post(
                drc.url + "/documenten/api/v1/objectinformatieobjecten",
                headers={"Authorization": drc.authorization()},
                json={
                    "informatieobject": document["url"],
                    "object": verzoek,
                    "objectType": "verzoek",
                },
            )
            assert response.status_code == 201, response.text
    assert len(created) == 1
    assert created[0].is_closed  # the DRC closed its client when it stopped


def test_two_drcs_in_one_process_have_a_client_each(kic: Any, created: list[httpx.Client]) -> None:
    with running_mock_drc(DrcConfig()) as first, running_mock_drc(DrcConfig()) as second:
        for drc in (first, second):
            document = drc.create_document()
            verzoek = kic.new_verzoek()
            kic.lists(verzoek, document["url"])
            response = httpx.post(
                drc.url + "/documenten/api/v1/objectinformatieobjecten",
                headers={"Authorization": drc.authorization()},
                json={
                    "informatieobject": document["url"],
                    "object": verzoek,
                    "objectType": "verzoek",
                },
            )
            assert response.status_code == 201, response.text
        assert len(created) == 2 and not created[0].is_closed
    assert all(client.is_closed for client in created)


def test_one_deadline_bounds_the_whole_call_back(checker: CallbackChecker) -> None:
    """A KIC that drips its answer within any per-read timeout is cut off by the deadline."""
    server = LoopbackServer(drip_body)
    try:
        started = time.monotonic()
        result = checker.list_verzoek_relation(
            f"{server.url}/api/v1/verzoeken/1", "https://d/6", credentials=None, timeout=0.5
        )
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert result.outcome == callback.UNREACHABLE and result.status == 200
    assert result.error == result.detail and "within 0.5s" in result.error
    assert elapsed < 0.5 + 1.5, f"the call-back took {elapsed:.1f}s with a 0.5s timeout"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"[" * 3000 + b"]" * 3000, "deeper than"),
        (b"[" + b" " * (callback.MAX_ANSWER_BYTES + 1) + b"]", "exceeds"),
        (b'[{"url": "\\udfff"}]', "lone surrogate"),
    ],
    ids=["deep", "oversized", "lone-surrogate"],
)
def test_an_answer_the_shared_reader_refuses_is_an_invalid_response(
    checker: CallbackChecker, httpserver: HTTPServer, answer: bytes, words: str
) -> None:
    httpserver.expect_request(RELATIONS_PATH).respond_with_data(
        answer, content_type="application/json"
    )
    result = _ask(checker, httpserver.url_for("/kic/api/v1/verzoeken/1"), "https://d/7")
    assert result.outcome == callback.INVALID_RESPONSE and result.status == 200
    assert words in result.detail
