"""The reference KIC against hostile clients and hostile peers (issue 14, its KIC side), and
both servers on a busy port (issue 15 item 6).

One test (or one parametrised family) per point: the Host header cannot steer the URLs the
DRC calls back with its token; tokens follow zgw.jwt (``iat`` required, one hour at most);
no input and no peer answer gives a 5xx (lone surrogates, chunked bodies, deep or oversized
answers of document, zaak and DRC hosts, and the row of a failed answer is released); one
deadline bounds each outgoing request; the documented ``remote-relation-exists``; a busy
port ends ``reference-kic serve`` and ``mock-drc serve`` with one line. Every server is
in-process or a child process on loopback; every wait is bounded. Bounds on elapsed time
are generous upper limits of a timeout behaviour, not performance figures.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from loopback import LoopbackServer, drip_body, drip_headers
from pytest_httpserver import HTTPServer
from robustness_support import (
    BIN,
    CALLBACK_ID,
    CALLBACK_SECRET,
    CLIENT_ID,
    DRC_CLIENT_ID,
    DRC_SECRET,
    SECRET,
    WRITER_ID,
    WRITER_SECRET,
    auth,
)

from mock_drc.testing import MockDrcHandle
from reference_kic.app import KicApp, create_app
from reference_kic.config import DrcCredential, KicConfig, parse_clients
from reference_kic.reconcile import Reconciler
from zgw.serving import serve_in_thread

#: The KIC's http_timeout where a test waits for it (seconds).
LIMIT = 1.0
RSIN = "000000000"
MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


class Kic:
    """A reference KIC served in a thread: its app, base URL and a client as ``CLIENT_ID``."""

    def __init__(self, app: KicApp, url: str) -> None:
        self.app = app
        self.url = url
        self.api = f"{url}/api/v1"
        self.http = httpx.Client(base_url=self.api + "/", headers=auth(), timeout=30)

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(collection, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def verzoek(self) -> str:
        return self.create("verzoeken", {"bronorganisatie": RSIN, "status": "ontvangen"})["url"]


@pytest.fixture
def start_kic(tmp_path: Path) -> Iterator[Callable[..., Kic]]:
    """Serve KICs (all clients of robustness_support) with ``KicConfig`` changes."""
    stack: list[Any] = []

    def start(**changes: Any) -> Kic:
        clients = parse_clients(
            {
                CLIENT_ID: {"secret": SECRET, "scopes": "all"},
                WRITER_ID: {"secret": WRITER_SECRET, "scopes": ["klanten.aanmaken"]},
                CALLBACK_ID: {"secret": CALLBACK_SECRET, "scopes": ["klanten.lezen"]},
            },
            "hardening",
        )
        settings: dict[str, Any] = {
            "db_path": str(tmp_path / f"kic-{uuid.uuid4().hex[:8]}.sqlite3"),
            "clients": clients,
            "http_timeout": LIMIT,
            "reconcile_interval": 0,  # a test runs the reconciler itself where it needs it
        }
        settings.update(changes)
        app = create_app(KicConfig(**settings))
        served = serve_in_thread(app)
        kic = Kic(app, served.__enter__().url)
        stack.extend([served, kic])
        return kic

    yield start
    for item in reversed(stack):
        if isinstance(item, Kic):
            item.http.close()
        else:
            item.__exit__(None, None, None)


def _problem(response: httpx.Response) -> dict[str, str]:
    """The one invalidParams entry of a 400 ValidatieFout."""
    assert response.status_code == 400, response.text
    (param,) = response.json()["invalidParams"]
    return param


def _uuid_url(root: str, collection: str) -> str:
    return f"{root}/{collection}/{uuid.uuid4()}"


# -- 1. the Host header cannot steer the KIC's URLs ---------------------------------------------


@pytest.mark.parametrize("named", ["127.0.0.1", "localhost", "attacker.example"])
def test_a_client_cannot_steer_the_drc_call_back_to_a_host_of_its_own(
    start_kic: Callable[..., Kic],
    strict_drc: MockDrcHandle,
    httpserver: HTTPServer,
    named: str,
) -> None:
    # The attacker's server lists every relation, so a DRC that called it would mirror.
    httpserver.expect_request(re.compile(".*")).respond_with_json([{"url": "captured"}])
    kic = start_kic(
        drc_credentials=[DrcCredential(strict_drc.url + "/", DRC_CLIENT_ID, DRC_SECRET)]
    )
    verzoek = kic.verzoek()
    document = strict_drc.create_document()["url"]
    body = {"verzoek": verzoek, "informatieobject": document}
    writer = {"Authorization": auth(WRITER_ID, WRITER_SECRET)["Authorization"]}

    steered = kic.http.post(
        "verzoekinformatieobjecten",
        json=body,
        headers={**writer, "Host": f"{named}:{httpserver.port}"},
    )
    assert steered.status_code == 400, steered.text
    assert steered.json()["code"] == "host-not-allowed"
    assert httpserver.log == [], "the DRC's call-back token went to the client's server"
    assert strict_drc.state.mirrors() == []
    assert strict_drc.state.journal(method="POST", path=MIRRORS) == []
    assert kic.http.get("verzoekinformatieobjecten").json() == []
    for collection in ("verzoeken", "klanten"):  # every URL-building request, not only kic-001
        other = kic.http.post(collection, json={}, headers={"Host": f"{named}:{httpserver.port}"})
        assert other.status_code == 400 and other.json()["code"] == "host-not-allowed"

    # The same request with the KIC's own Host: the mirror names the KIC, the DRC calls it.
    created = kic.http.post("verzoekinformatieobjecten", json=body, headers=writer)
    assert created.status_code == 201, created.text
    (mirror,) = strict_drc.state.mirrors()
    assert mirror["object"] == verzoek and verzoek.startswith(kic.api + "/")
    (entry,) = strict_drc.state.journal(method="POST", path=MIRRORS)
    assert entry["callback"]["url"].startswith(kic.api + "/verzoekinformatieobjecten?")
    assert entry["callback"]["outcome"] == "listed"
    assert httpserver.log == []


# -- 2. tokens: zgw.jwt's rules ----------------------------------------------------------------


def _token(claims: dict[str, Any]) -> dict[str, str]:
    token = pyjwt.encode({"client_id": CLIENT_ID, **claims}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({}, "jwt-missing-iat-claim"),
        ({"exp": int(time.time()) + 86_400}, "jwt-missing-iat-claim"),
        ({"iat": int(time.time()) - 7_200, "exp": int(time.time()) + 3_600}, "jwt-expired"),
        ({"iat": int(time.time()) - 60, "exp": int(time.time()) - 60}, "jwt-expired"),
        ({"iat": int(time.time()) + 600}, "jwt-not-valid-yet"),
    ],
    ids=["no-iat", "no-iat-long-exp", "older-than-an-hour", "expired", "iat-in-the-future"],
)
def test_tokens_follow_zgw_jwt_rules_on_every_kic_operation(
    start_kic: Callable[..., Kic], claims: dict[str, Any], code: str
) -> None:
    kic = start_kic()
    headers = _token(claims)
    for method, path in (("GET", "klanten"), ("POST", "klanten"), ("GET", "verzoeken")):
        response = kic.http.request(method, path, headers=headers, json={})
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["code"] == code
    # Within the leeway (5 s) a token made "just now" by a clock a little ahead is fine.
    fresh = _token({"iat": int(time.time()) + 2})
    assert kic.http.get("klanten", headers=fresh).status_code == 200


# -- 3a. request bodies: one reader, no 5xx ----------------------------------------------------


def _raw_post(kic: Kic, path: str, body: dict[str, Any], field: str, evil: str) -> httpx.Response:
    """POST ``body`` with ``evil`` (raw JSON text) spliced in as the value of ``field``."""
    raw = json.dumps(body).replace(f'"{field}": "PLACEHOLDER"', f'"{field}": {evil}', 1)
    assert evil in raw
    return kic.http.post(path, content=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("collection", "field", "body"),
    [
        ("verzoeken", "identificatie", {"status": "ontvangen", "identificatie": "PLACEHOLDER"}),
        ("verzoekproducten", "code", {"productIdentificatie": {"code": "PLACEHOLDER"}}),
        ("verzoekproducten", "product", {"product": "PLACEHOLDER"}),
    ],
    ids=["verzoek.identificatie", "verzoekproduct.code", "verzoekproduct.product"],
)
def test_a_lone_surrogate_in_a_body_is_a_400(
    start_kic: Callable[..., Kic], collection: str, field: str, body: dict[str, Any]
) -> None:
    kic = start_kic()
    full = {"bronorganisatie": RSIN, **body}
    if collection == "verzoekproducten":
        full = {"verzoek": kic.verzoek(), **body}
    for evil in ('"\\ud800"', '"https://product.example/\\udfff"'):
        problem = _problem(_raw_post(kic, collection, full, field, evil))
        assert (problem["name"], problem["code"]) == ("nonFieldErrors", "parse_error")
        assert "lone surrogate" in problem["reason"]
    assert kic.http.get(collection).json() == []


def test_a_deep_request_body_is_a_400(start_kic: Callable[..., Kic]) -> None:
    kic = start_kic()
    deep = '{"subjectType": "natuurlijk_persoon", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    problem = _problem(
        kic.http.post("klanten", content=deep, headers={"Content-Type": "application/json"})
    )
    assert problem["code"] == "parse_error" and "deeper than" in problem["reason"]


def test_a_chunked_request_body_is_read_and_typed(start_kic: Callable[..., Kic]) -> None:
    kic = start_kic()

    def pieces() -> Iterator[bytes]:  # no length known in advance: httpx sends it chunked
        yield b'{"subjectType": "natuurlijk_persoon", '
        yield b'"subject": "https://personen.example/p/1", "voornaam": "Stuk"}'

    created = kic.http.post(
        "klanten", content=pieces(), headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["voornaam"] == "Stuk"
    untyped = kic.http.post("klanten", content=pieces(), headers={"Content-Type": "text/plain"})
    assert untyped.status_code == 415, untyped.text
    assert len(kic.http.get("klanten").json()) == 1


# -- 3b. peer answers: no 5xx, the row released ------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def _document_root(server: HTTPServer) -> str:
    return server.url_for("/documenten/api/v1").rstrip("/")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (DEEP, "deeper than"),
        (b'{"url": "x", "titel": "\\ud800"}', "lone surrogate"),
        (b'{"url": "x", "titel": "' + b"x" * 1_200_000 + b'"}', "exceeds"),
    ],
    ids=["deep", "lone-surrogate", "oversized"],
)
def test_a_document_host_answering_unusable_json_is_a_400(
    start_kic: Callable[..., Kic], httpserver: HTTPServer, answer: bytes, words: str
) -> None:
    document = _uuid_url(_document_root(httpserver), "enkelvoudiginformatieobjecten")
    httpserver.expect_request(re.compile(".*/enkelvoudiginformatieobjecten/.*")).respond_with_data(
        answer, content_type="application/json"
    )
    kic = start_kic()
    response = kic.http.post(
        "verzoekinformatieobjecten", json={"verzoek": kic.verzoek(), "informatieobject": document}
    )
    problem = _problem(response)
    assert (problem["name"], problem["code"]) == ("informatieobject", "invalid-resource")
    assert words in problem["reason"]
    assert kic.http.get("verzoekinformatieobjecten").json() == []


@pytest.mark.parametrize("where", ["zaak", "zaak-list"])
def test_a_zaak_host_answering_deep_json_is_a_400(
    start_kic: Callable[..., Kic], httpserver: HTTPServer, where: str
) -> None:
    zaak = _uuid_url(httpserver.url_for("/zaken/api/v1").rstrip("/"), "zaken")
    zaak_answer = DEEP if where == "zaak" else json.dumps({"url": zaak}).encode()
    httpserver.expect_request(re.compile(r".*/zaken/[0-9a-f-]{36}\Z")).respond_with_data(
        zaak_answer, content_type="application/json"
    )
    httpserver.expect_request(re.compile(r".*/zaakverzoeken\Z")).respond_with_data(
        DEEP, content_type="application/json"
    )
    kic = start_kic()
    response = kic.http.post(
        "objectverzoeken", json={"verzoek": kic.verzoek(), "object": zaak, "objectType": "zaak"}
    )
    problem = _problem(response)
    expected = (
        ("object", "invalid-resource")
        if where == "zaak"
        else ("nonFieldErrors", "remote-unavailable")
    )
    assert (problem["name"], problem["code"]) == expected
    assert "deeper than" in problem["reason"]
    assert kic.http.get("objectverzoeken").json() == []


def test_a_drc_answering_deep_json_releases_the_row_and_the_reconciler_carries_on(
    start_kic: Callable[..., Kic], httpserver: HTTPServer
) -> None:
    root = _document_root(httpserver)
    document = _uuid_url(root, "enkelvoudiginformatieobjecten")
    httpserver.expect_request(re.compile(".*/enkelvoudiginformatieobjecten/.*")).respond_with_json(
        {"url": document, "titel": "Brief"}
    )
    # The mirror POST fails; the look at the DRC's mirrors that follows gets deep JSON.
    httpserver.expect_request(MIRRORS, method="POST").respond_with_json({"code": "x"}, status=500)
    httpserver.expect_request(MIRRORS, method="GET").respond_with_data(
        DEEP, content_type="application/json"
    )
    kic = start_kic()
    response = kic.http.post(
        "verzoekinformatieobjecten", json={"verzoek": kic.verzoek(), "informatieobject": document}
    )
    assert _problem(response)["code"] == "invalid"
    db = kic.app.runtime.config.db_path
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sync, sync_owner, hidden FROM verzoekinformatieobjecten")
        (row,) = rows.fetchall()
    assert row == ("unmirror", None, 1), "the row must be left to the reconciler, unclaimed"

    reconciler = Reconciler(kic.app.runtime.service.drc, settle=0.0, stale=0.0)
    done = reconciler.run_once(now=time.time() + 3600)  # raised before: the round aborted
    (reason,) = done.failed.values()
    assert "not JSON" in reason or "deeper than" in reason
    with sqlite3.connect(db) as conn:
        owner = conn.execute("SELECT sync_owner FROM verzoekinformatieobjecten").fetchone()
    assert owner == (None,), "the reconciler released the row it could not settle"


# -- 4. one deadline per outgoing request ------------------------------------------------------


@pytest.mark.parametrize("drip", [drip_headers, drip_body], ids=["headers", "body"])
def test_a_dripping_document_host_cannot_hold_a_kic_request_past_its_timeout(
    start_kic: Callable[..., Kic], loopback: Callable[..., LoopbackServer], drip: Any
) -> None:
    server = loopback(drip)  # every byte in time for a per-read timeout; never the whole answer
    document = _uuid_url(f"{server.url}/documenten/api/v1", "enkelvoudiginformatieobjecten")
    kic = start_kic()
    verzoek = kic.verzoek()
    started = time.monotonic()
    response = kic.http.post(
        "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": document}
    )
    elapsed = time.monotonic() - started
    problem = _problem(response)
    assert (problem["name"], problem["code"]) == ("informatieobject", "bad-url")
    assert f"within {LIMIT:g}s" in problem["reason"]
    assert elapsed <= LIMIT + 1.5, f"the document host held the KIC {elapsed:.1f}s (limit {LIMIT}s)"


# -- 5. remote-relation-exists (documented; the VNG reference does the same) -------------------


@pytest.mark.parametrize(
    ("collection", "own", "link"),
    [
        ("objectverzoeken", "verzoeken", "verzoek"),
        ("objectcontactmomenten", "contactmomenten", "contactmoment"),
    ],
)
def test_deleting_a_zaak_relation_the_zrc_still_lists_is_400_remote_relation_exists(
    start_kic: Callable[..., Kic],
    strict_drc: MockDrcHandle,
    collection: str,
    own: str,
    link: str,
) -> None:
    kic = start_kic(
        drc_credentials=[DrcCredential(strict_drc.url + "/", DRC_CLIENT_ID, DRC_SECRET)]
    )
    bodies = {
        "verzoeken": {"bronorganisatie": RSIN, "status": "ontvangen"},
        "contactmomenten": {"bronorganisatie": RSIN, "medewerker": "https://m.example/m/1"},
    }
    own_url = kic.create(own, bodies[own])["url"]
    zaak = strict_drc.state.create_zaak()["url"]
    strict_drc.state.link_zaak(zaak, **{link: own_url})
    relation = kic.create(collection, {link: own_url, "object": zaak, "objectType": "zaak"})
    path = f"{collection}/{relation['url'].rsplit('/', 1)[1]}"
    refused = kic.http.delete(path)
    assert _problem(refused)["code"] == "remote-relation-exists"
    assert kic.http.get(path).status_code == 200
    strict_drc.state.unlink_zaak(zaak, **{link: own_url})
    assert kic.http.delete(path).status_code == 204


# -- 6. a busy port: one line, exit 2 ----------------------------------------------------------


@pytest.mark.parametrize("command", ["reference-kic", "mock-drc"])
def test_serve_on_a_busy_port_exits_2_with_one_line(tmp_path: Path, command: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        argv = [str(BIN / command), "serve", "--port", str(port)]
        if command == "reference-kic":
            argv += ["--db", str(tmp_path / "kic.sqlite3")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line == f"{command}: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert not (tmp_path / "kic.sqlite3").exists(), "nothing is created before the port is free"
