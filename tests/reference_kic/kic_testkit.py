"""Helpers for the reference KIC's tests: configured apps, test clients and a DRC double.

The DRC double is a small in-process Falcon app that imitates what kic-001 needs from a
Documenten API (documents, objectinformatieobjecten) plus a Zaken API's zaak and relation
lists; in strict mode it calls the KIC back on mirror create and delete, like a real DRC.
"""

from __future__ import annotations

import threading
import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

import falcon
import falcon.testing
import httpx

from reference_kic.config import ALL_SCOPES, KicConfig
from reference_kic.remote import api_root_before
from zgw.jwt import Client, bearer
from zgw.serving import BackgroundServer

KIC_CLIENTS = {
    "alles": Client("alles", "geheim-alles-0123456789abcdef0123456789", ALL_SCOPES),
    "lezer": Client(
        "lezer", "geheim-lezer-0123456789abcdef0123456789", frozenset({"klanten.lezen"})
    ),
    "schrijver": Client(
        "schrijver",
        "geheim-schrijver-0123456789abcdef012345",
        frozenset({"klanten.aanmaken", "klanten.bijwerken"}),
    ),
    "drc": Client("drc", "geheim-drc-0123456789abcdef0123456789ab", frozenset({"klanten.lezen"})),
}
DRC_CLIENT_ID, DRC_SECRET = "kic", "geheim-drc-voor-kic-0123456789abcdef0123"
RSIN = "000000000"
OTHER_RSIN = "423182687"


def auth_header(client: str = "alles") -> dict[str, str]:
    return {"Authorization": bearer(client, KIC_CLIENTS[client].secret)}


def make_config(tmp_path: Any, **kwargs: Any) -> KicConfig:
    kwargs.setdefault("clients", dict(KIC_CLIENTS))
    kwargs.setdefault("http_timeout", 5.0)
    return KicConfig(db_path=str(tmp_path / f"kic-{uuid_module.uuid4().hex[:8]}.db"), **kwargs)


class Api:
    """A falcon TestClient speaking JSON with a token; ``call(method, path, json=...)``."""

    def __init__(self, app: falcon.App, client: str = "alles") -> None:
        self.app = app
        self.test_client = falcon.testing.TestClient(app)
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        client: str | None = None,
        **kwargs: Any,
    ) -> falcon.testing.Result:
        who = self.client if client is None else client
        all_headers = auth_header(who) if who else {}
        all_headers.update(headers or {})
        if not path.startswith("/"):
            path = "/api/v1/" + path
        return self.test_client.simulate_request(
            method, path, json=json, headers=all_headers, **kwargs
        )

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        result = self.call("POST", collection, json=body)
        assert result.status_code == 201, result.text
        return result.json


def uuid_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def path_of(url: str) -> str:
    return "/api/v1/" + url.split("/api/v1/", 1)[1]


def klant_body(**extra: Any) -> dict[str, Any]:
    return {"subjectType": "natuurlijk_persoon", "subject": "https://personen.example/p/1", **extra}


def verzoek_body(**extra: Any) -> dict[str, Any]:
    return {"bronorganisatie": RSIN, "status": "ontvangen", **extra}


def contactmoment_body(**extra: Any) -> dict[str, Any]:
    return {"bronorganisatie": RSIN, "medewerker": "https://medewerkers.example/m/1", **extra}


# -- the DRC / ZRC double -------------------------------------------------------------------
@dataclass
class Received:
    method: str
    path: str
    params: dict[str, str]
    json: Any
    authorization: str | None


@dataclass
class Fault:
    """Answer ``status`` (0 = hang until the client gives up) after ``skip`` normal answers.

    ``delay``: wait that long first; with ``status`` None the request is then handled
    normally (a DRC that does the work after its client gave up).
    """

    status: int | None
    skip: int = 0
    delay: float = 0.0


@dataclass
class DrcDouble:
    """State and knobs of the double; ``url`` is set once it is served."""

    kic_credentials: tuple[str, str] = ("drc", "geheim-drc-0123456789abcdef0123456789ab")
    strict: bool = True
    url: str = ""
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    mirrors: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal: list[Received] = field(default_factory=list)
    #: (method, "mirrors" | "mirror" | "zaakrelations") -> forced answer
    faults: dict[tuple[str, str], Fault] = field(default_factory=dict)
    #: set at teardown so a "hang" fault never outlives its test
    release: threading.Event = field(default_factory=threading.Event)
    callbacks: list[tuple[str, int, Any]] = field(default_factory=list)
    zaak_relations: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def drc_root(self) -> str:
        return f"{self.url}/documenten/api/v1/"

    def add_document(self) -> str:
        doc_uuid = str(uuid_module.uuid4())
        url = f"{self.drc_root}enkelvoudiginformatieobjecten/{doc_uuid}"
        self.documents[doc_uuid] = {"url": url, "titel": "Brief", "auteur": "test"}
        return url

    def zaak(self) -> str:
        return f"{self.url}/zaken/api/v1/zaken/{uuid_module.uuid4()}"

    def fault(self, method: str, what: str, resp: falcon.Response) -> bool:
        """Apply a configured fault; True when the request has been answered by it."""
        fault = self.faults.get((method, what))
        if fault is None:
            return False
        if fault.skip > 0:
            fault.skip -= 1
            return False
        if fault.delay:
            self.release.wait(fault.delay)
        if fault.status is None:
            return False
        if fault.status == 0:
            self.release.wait(10)
        _fout(resp, fault.status or 504, "forced")
        return True

    def received(self, method: str, fragment: str) -> list[Received]:
        return [r for r in self.journal if r.method == method and fragment in r.path]

    def callback(self, mirror: dict[str, Any]) -> list[Any]:
        """Ask the KIC whether it lists the relation (as a real DRC does)."""
        root = api_root_before(mirror["object"], "verzoeken")
        assert root is not None, mirror
        response = httpx.get(
            f"{root}verzoekinformatieobjecten",
            params={"verzoek": mirror["object"], "informatieobject": mirror["informatieobject"]},
            headers={"Authorization": bearer(*self.kic_credentials)},
            timeout=5,
        )
        body = response.json()
        self.callbacks.append((mirror["object"], response.status_code, body))
        return body if response.status_code == 200 else []


def _fout(resp: falcon.Response, status: int, code: str) -> None:
    resp.status = falcon.code_to_http_status(status)
    resp.media = {
        "code": code,
        "status": status,
        "invalidParams": [{"name": "nonFieldErrors", "code": code, "reason": code}],
    }


def drc_app(double: DrcDouble) -> falcon.App:
    app = falcon.App()

    class Journal:
        def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
            body = req.get_media(default_when_empty=None) if req.content_length else None
            double.journal.append(
                Received(
                    req.method, req.path, dict(req.params), body, req.get_header("Authorization")
                )
            )

    app.add_middleware(Journal())

    class Document:
        def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
            if uuid not in double.documents:
                raise falcon.HTTPNotFound()
            resp.media = double.documents[uuid]

    class Mirrors:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            if double.fault("POST", "mirrors", resp):
                return
            body = req.get_media()
            if body.get("objectType") != "verzoek":
                return _fout(resp, 400, "invalid_choice")
            if double.strict and not double.callback(body):
                return _fout(resp, 400, "inconsistent-relation")
            mirror_uuid = str(uuid_module.uuid4())
            mirror = {"url": f"{double.drc_root}objectinformatieobjecten/{mirror_uuid}", **body}
            with double.lock:
                double.mirrors[mirror_uuid] = mirror
            resp.status = falcon.HTTP_201
            resp.media = mirror

        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            if double.fault("GET", "mirrors", resp):
                return
            wanted = {k: v for k, v in req.params.items() if k in ("object", "informatieobject")}
            resp.media = [
                m for m in double.mirrors.values() if all(m[k] == v for k, v in wanted.items())
            ]

    class Mirror:
        def on_delete(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
            if double.fault("DELETE", "mirror", resp):
                return
            mirror = double.mirrors.get(uuid)
            if mirror is None:
                raise falcon.HTTPNotFound()
            if double.strict and double.callback(mirror):
                return _fout(resp, 400, "remote-relation-exists")
            del double.mirrors[uuid]
            resp.status = falcon.HTTP_204

    class Zaak:
        def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
            resp.media = {"url": req.url, "bronorganisatie": RSIN}

    class ZaakRelations:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            if double.fault("GET", "zaakrelations", resp):
                return
            resp.media = double.zaak_relations

    app.add_route("/documenten/api/v1/enkelvoudiginformatieobjecten/{uuid}", Document())
    app.add_route("/documenten/api/v1/objectinformatieobjecten", Mirrors())
    app.add_route("/documenten/api/v1/objectinformatieobjecten/{uuid}", Mirror())
    app.add_route("/zaken/api/v1/zaken/{uuid}", Zaak())
    app.add_route("/zaken/api/v1/zaakcontactmomenten", ZaakRelations())
    app.add_route("/zaken/api/v1/zaakverzoeken", ZaakRelations())
    return app


class ServedKic:
    """A reference KIC served over HTTP (so the DRC double can call it back)."""

    def __init__(self, server: BackgroundServer) -> None:
        self.url = server.url
        self.db_path = ""  # the SQLite file, set by the fixture that made the config
        self.http = httpx.Client(base_url=f"{server.url}/api/v1/", timeout=10)

    def call(
        self, method: str, path: str, *, json: Any = None, client: str = "alles", **kw: Any
    ) -> httpx.Response:
        return self.http.request(method, path, json=json, headers=auth_header(client), **kw)

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.call("POST", collection, json=body)
        assert response.status_code == 201, response.text
        return response.json()
