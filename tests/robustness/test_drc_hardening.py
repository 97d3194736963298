"""The mock DRC against hostile clients and hostile call-back targets (issue 14, its mock DRC
side), and what it gives the harness for correlated journals (issue 12 item 5) and for runs
with two DRCs (issue 13 item 4).

One test per point: tokens without ``iat``; deep JSON, lone surrogates and deep call-back
answers (the shared JSON reader); one deadline per call-back; chunked bodies; ``reset`` with
requests in flight; the token checked before the query; a body that stops arriving; the
journal filtered by what an entry mentions, with its call-backs; two DRCs in one process.
Everything runs in-process on loopback; every wait is bounded. Bounds on elapsed time are
generous upper limits of a timeout behaviour, not performance figures.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from loopback import LoopbackServer, drip_body, drip_headers, read_head
from pytest_httpserver import HTTPServer
from robustness_support import CALLBACK_ID, CALLBACK_SECRET, CLIENT_ID, DRC_CLIENT_ID, DRC_SECRET
from robustness_support import SECRET as KIC_SECRET
from robustness_support import auth as kic_auth
from werkzeug import Request, Response

from mock_drc.config import ALL_SCOPES as DRC_SCOPES
from mock_drc.config import DrcConfig
from mock_drc.testing import MockDrcHandle, running_mock_drc
from reference_kic.app import create_app
from reference_kic.config import DrcCredential, KicConfig, parse_clients
from zgw.jwt import Client
from zgw.serving import free_port, serve_in_thread

#: The DRC's call-back timeout and body timeout in these tests (seconds).
LIMIT = 1.0
MIRRORS = "/documenten/api/v1/objectinformatieobjecten"
DOCUMENTS = "/documenten/api/v1/enkelvoudiginformatieobjecten"


def _drc_config(**changes: Any) -> DrcConfig:
    settings: dict[str, Any] = {
        "clients": {DRC_CLIENT_ID: Client(DRC_CLIENT_ID, DRC_SECRET, DRC_SCOPES)},
        "strict": True,
        "callback_credentials": (CALLBACK_ID, CALLBACK_SECRET),
        "callback_timeout": LIMIT,
        "body_timeout": LIMIT,
    }
    settings.update(changes)
    return DrcConfig(**settings)


@pytest.fixture
def drc() -> Iterator[MockDrcHandle]:
    with running_mock_drc(_drc_config()) as handle:
        yield handle


@pytest.fixture
def http(drc: MockDrcHandle) -> Iterator[httpx.Client]:
    """A client of the DRC, as the KIC, with a timeout no test should reach."""
    headers = {"Authorization": drc.authorization()}
    with httpx.Client(base_url=drc.url, headers=headers, timeout=30) as client:
        yield client


def _mirror(document: dict[str, Any], verzoek: str, **extra: Any) -> dict[str, Any]:
    return {
        "informatieobject": document["url"],
        "object": verzoek,
        "objectType": "verzoek",
        **extra,
    }


def _verzoek(root: str) -> str:
    return f"{root}/api/v1/verzoeken/{uuid.uuid4()}"


def _json_answer(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def _only_param(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    (param,) = response.json()["invalidParams"]
    return param


# -- 1. tokens ---------------------------------------------------------------------------------


def test_a_token_without_iat_never_authenticates(drc: MockDrcHandle) -> None:
    ageless = pyjwt.encode({"client_id": DRC_CLIENT_ID}, DRC_SECRET, algorithm="HS256")
    response = httpx.get(drc.url + MIRRORS, headers={"Authorization": f"Bearer {ageless}"})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "jwt-missing-iat-claim"


# -- 2. one JSON reader for bodies and answers ------------------------------------------------


def test_deep_json_is_refused_not_stored_and_the_journal_still_answers(
    drc: MockDrcHandle, http: httpx.Client
) -> None:
    document = drc.create_document()
    nested = "[" * 500 + "]" * 500
    deep = (
        f'{{"informatieobject": "{document["url"]}", "objectType": "zaak", '
        f'"object": "https://zaken.example.com/zaken/1", "x": {nested}}}'
    )
    response = http.post(MIRRORS, content=deep, headers={"Content-Type": "application/json"})
    param = _only_param(response)
    assert (param["name"], param["code"]) == ("nonFieldErrors", "parse_error")
    assert "deeper than" in param["reason"]
    assert drc.state.mirrors() == []
    journal = httpx.get(drc.url + "/_mock/journal")
    assert journal.status_code == 200, journal.text
    (entry,) = journal.json()
    assert entry["status"] == 400 and entry["body"] == deep  # kept as text


@pytest.mark.parametrize("field", ["object", "informatieobject", "objectType"])
def test_a_lone_surrogate_in_a_mirror_is_a_400(
    drc: MockDrcHandle, http: httpx.Client, field: str
) -> None:
    # A zaak relation: stored without a call-back, so only the reader stands in the way.
    body = {
        **_mirror(drc.create_document(), "https://zaken.example.com/zaken/1"),
        "objectType": "zaak",
    }
    raw = json.dumps(body).replace(f'"{field}": "', f'"{field}": "\\ud800', 1)
    response = http.post(MIRRORS, content=raw, headers={"Content-Type": "application/json"})
    assert "lone surrogate" in _only_param(response)["reason"]
    assert drc.state.mirrors() == []
    assert httpx.get(drc.url + "/_mock/journal").status_code == 200


@pytest.mark.parametrize(
    "answer",
    [b"[" * 100_000 + b"]" * 100_000, b'[{"url": "\\ud800"}]', b"[NaN]"],
    ids=["deep", "lone-surrogate", "nan"],
)
def test_a_call_back_answered_with_unusable_json_is_a_400(
    drc: MockDrcHandle, http: httpx.Client, loopback: Callable[..., LoopbackServer], answer: bytes
) -> None:
    def kic(conn: socket.socket, stopping: threading.Event) -> None:
        read_head(conn)
        conn.sendall(_json_answer(answer))

    server = loopback(kic)
    response = http.post(MIRRORS, json=_mirror(drc.create_document(), _verzoek(server.url)))
    assert _only_param(response)["code"] == "remote-invalid-response"
    assert drc.state.mirrors() == []
    (entry,) = httpx.get(drc.url + "/_mock/journal").json()
    assert entry["callbacks"][0]["outcome"] == "invalid-response"


# -- 3. one deadline per call-back -------------------------------------------------------------


@pytest.mark.parametrize("drip", [drip_headers, drip_body], ids=["headers", "body"])
def test_a_dripping_call_back_target_cannot_hold_the_drc_beyond_its_timeout(
    drc: MockDrcHandle, http: httpx.Client, loopback: Callable[..., LoopbackServer], drip: Any
) -> None:
    server = loopback(drip)  # every byte in time for a per-read timeout; never the whole answer
    started = time.monotonic()
    response = http.post(MIRRORS, json=_mirror(drc.create_document(), _verzoek(server.url)))
    elapsed = time.monotonic() - started
    assert _only_param(response)["code"] == "remote-unreachable"
    assert f"within {LIMIT:g}s" in _only_param(response)["reason"]
    assert elapsed <= LIMIT + 1.5, f"the call-back held the DRC {elapsed:.1f}s (limit {LIMIT}s)"


# -- 4. request bodies, reset, auth order ------------------------------------------------------


def test_a_chunked_request_body_is_read(drc: MockDrcHandle, http: httpx.Client) -> None:
    def pieces() -> Iterator[bytes]:  # no length known in advance: httpx sends it chunked
        yield b'{"titel": "in stukken", "bronorganisatie": "000000000", '
        yield b'"creatiedatum": "2024-01-01", "auteur": "a", "taal": "dut", '
        yield b'"informatieobjecttype": "https://catalogi.example.com/t/1"}'

    response = http.post(DOCUMENTS, content=pieces(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["titel"] == "in stukken"
    (entry,) = drc.state.journal()
    assert entry["headers"].get("Transfer-Encoding") == "chunked"
    assert entry["body"]["titel"] == "in stukken"


def test_a_reset_during_a_request_leaves_nothing_of_it(
    drc: MockDrcHandle, http: httpx.Client, loopback: Callable[..., LoopbackServer]
) -> None:
    called_back, release = threading.Event(), threading.Event()

    def kic(conn: socket.socket, stopping: threading.Event) -> None:
        read_head(conn)
        called_back.set()
        release.wait(10)
        conn.sendall(_json_answer(b'[{"url": "x"}]'))

    server = loopback(kic)
    document = drc.create_document()
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(http.post, MIRRORS, json=_mirror(document, _verzoek(server.url)))
        assert called_back.wait(10), "the DRC never called back"
        assert httpx.post(drc.url + "/_mock/reset").status_code == 204
        release.set()
        response = in_flight.result(timeout=30)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "reset-during-request"
    assert drc.state.mirrors() == [] and drc.state.journal() == []


def test_the_token_is_checked_before_the_query(drc: MockDrcHandle) -> None:
    for path in (MIRRORS, DOCUMENTS, "/zaken/api/v1/zaakverzoeken"):
        response = httpx.get(drc.url + path, params={"token": "eyJ.secret.token"})
        assert response.status_code == 403, f"{path}: {response.text}"


def test_a_request_body_that_stops_arriving_is_answered_408(drc: MockDrcHandle) -> None:
    host, port = drc.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=LIMIT + 10) as conn:
        conn.sendall(
            f"POST {DOCUMENTS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {drc.authorization()}"
            '\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"titel"'.encode()
        )
        answer = conn.recv(65536)  # socket.timeout here means the DRC waited without bound
    assert answer.startswith(b"HTTP/1.0 408") or answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert drc.state.documents() == []


# -- 5. the journal of one scenario -----------------------------------------------------------


class KicDouble:
    """Answers the DRC's call-backs from a set of listed (verzoek, document) pairs."""

    def __init__(self, server: HTTPServer) -> None:
        self.root = server.url_for("").rstrip("/")
        self.listed: set[tuple[str, str]] = set()
        server.expect_request("/api/v1/verzoekinformatieobjecten").respond_with_handler(
            self._answer
        )

    def _answer(self, request: Request) -> Response:
        pair = (request.args["verzoek"], request.args["informatieobject"])
        rows = [{"verzoek": pair[0], "informatieobject": pair[1]}] if pair in self.listed else []
        return Response(httpx.Response(200, json=rows).content, 200, mimetype="application/json")


def test_the_journal_gives_one_scenarios_entries_with_their_call_backs(
    drc: MockDrcHandle, http: httpx.Client, httpserver: HTTPServer
) -> None:
    kic = KicDouble(httpserver)

    def scenario() -> tuple[str, str]:
        document, verzoek = drc.create_document(), _verzoek(kic.root)
        assert http.get(document["url"]).status_code == 200
        kic.listed.add((verzoek, document["url"]))
        created = http.post(MIRRORS, json=_mirror(document, verzoek))
        assert created.status_code == 201, created.text
        kic.listed.discard((verzoek, document["url"]))
        assert http.delete(created.json()["url"]).status_code == 204
        return document["url"], verzoek

    with ThreadPoolExecutor(max_workers=3) as pool:  # three scenarios at the same time
        scenarios = list(pool.map(lambda _: scenario(), range(3)))
    document, verzoek = scenarios[1]
    found = httpx.get(
        drc.url + "/_mock/journal", params=[("mentions", document), ("mentions", verzoek)]
    )
    assert found.status_code == 200, found.text
    entries = found.json()
    assert [(e["method"], e["status"]) for e in entries] == [
        ("GET", 200),  # the document, by its URL's path
        ("POST", 201),  # the mirror, by its body
        ("DELETE", 204),  # the mirror again, by the resource it deleted
    ]
    assert all(verzoek in str(e) or document in str(e) for e in entries)
    create, delete = entries[1], entries[2]
    assert delete["resource"]["object"] == verzoek
    for entry, outcome in ((create, "listed"), (delete, "not-listed")):
        (call,) = entry["callbacks"]
        assert call["outcome"] == outcome and call["status"] == 200
        assert call["url"].startswith(kic.root + "/api/v1/verzoekinformatieobjecten?")
        assert call["answer"].startswith("[") and call["error"] is None
        assert entry["callback"] == call


# -- 6. two DRCs in one process ---------------------------------------------------------------


def test_two_drcs_side_by_side_each_get_the_mirrors_of_their_own_documents(
    tmp_path: Path,
) -> None:
    with (
        running_mock_drc(_drc_config(callback_timeout=5.0)) as first,
        running_mock_drc(_drc_config(callback_timeout=5.0)) as second,
    ):
        port = free_port()
        config = KicConfig(
            db_path=str(tmp_path / "kic.sqlite3"),
            public_base_url=f"http://127.0.0.1:{port}/api/v1",
            clients=parse_clients(
                {
                    CLIENT_ID: {"secret": KIC_SECRET, "scopes": "all"},
                    CALLBACK_ID: {"secret": CALLBACK_SECRET, "scopes": ["klanten.lezen"]},
                },
                "two DRCs",
            ),
            drc_credentials=[
                DrcCredential(drc.url + "/", DRC_CLIENT_ID, DRC_SECRET) for drc in (first, second)
            ],
            http_timeout=5.0,
        )
        with (
            serve_in_thread(create_app(config), port=port) as kic,
            httpx.Client(headers=kic_auth(), timeout=30) as client,
        ):
            api = f"{kic.url}/api/v1"
            verzoek = client.post(
                f"{api}/verzoeken", json={"bronorganisatie": "000000000", "status": "ontvangen"}
            )
            assert verzoek.status_code == 201, verzoek.text
            links = {}
            for drc in (first, second):
                document = drc.create_document()["url"]
                link = client.post(
                    f"{api}/verzoekinformatieobjecten",
                    json={"verzoek": verzoek.json()["url"], "informatieobject": document},
                )
                assert link.status_code == 201, link.text
                links[drc.url] = (document, link.json()["url"])
            for drc in (first, second):
                document, _ = links[drc.url]
                assert [m["informatieobject"] for m in drc.state.mirrors()] == [document]
                mirror_posts = drc.state.journal(method="POST", path=MIRRORS)
                assert [e["body"]["informatieobject"] for e in mirror_posts] == [document]
            assert client.delete(links[first.url][1]).status_code == 204
            assert first.state.mirrors() == [] and len(second.state.mirrors()) == 1
