"""Integration: ``reference-kic serve`` under gunicorn with 2 workers serves every resource
and kic-001 against a DRC double that calls back into it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml
from kic_testkit import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    KIC_CLIENTS,
    DrcDouble,
    auth_header,
    contactmoment_body,
    klant_body,
    uuid_of,
    verzoek_body,
)

from zgw.serving import free_port

pytestmark = pytest.mark.slow


def _wait_until_serving(process: subprocess.Popen, url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # the port is not accepting yet; nothing else to wait on
    raise AssertionError("gunicorn did not start in time")


@pytest.fixture
def gunicorn_kic(tmp_path, drc: DrcDouble) -> Iterator[httpx.Client]:
    config = {
        "clients": {
            name: {"secret": client.secret, "scopes": sorted(client.scopes)}
            for name, client in KIC_CLIENTS.items()
        },
        "drc": [{"api_root": drc.url + "/", "client_id": DRC_CLIENT_ID, "secret": DRC_SECRET}],
    }
    config_path = tmp_path / "kic.yaml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reference_kic.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "kic.db"),
            "--config",
            str(config_path),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/api/v1/"
    try:
        _wait_until_serving(process, base, time.monotonic() + 30)
        with httpx.Client(base_url=base, timeout=10) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_every_resource_and_kic_001_under_gunicorn(gunicorn_kic: httpx.Client, drc: DrcDouble):
    def call(method: str, path: str, body=None) -> httpx.Response:
        return gunicorn_kic.request(method, path, json=body, headers=auth_header())

    def round_trip(collection: str, body: dict) -> dict:
        created = call("POST", collection, body)
        assert created.status_code == 201, created.text
        item = created.json()
        assert created.headers["Location"] == item["url"]
        assert call("GET", f"{collection}/{uuid_of(item['url'])}").json() == item
        assert item in call("GET", collection).json()
        return item

    klant = round_trip("klanten", klant_body())
    contactmoment = round_trip("contactmomenten", contactmoment_body(klant=klant["url"]))
    verzoek = round_trip("verzoeken", verzoek_body(klant=klant["url"]))
    drc.zaak_relations = [{"url": "https://zrc.example/r/1"}]
    relations = [
        (
            "verzoekcontactmomenten",
            {"verzoek": verzoek["url"], "contactmoment": contactmoment["url"]},
        ),
        ("verzoekproducten", {"verzoek": verzoek["url"], "productIdentificatie": {"code": "P"}}),
        (
            "objectcontactmomenten",
            {"contactmoment": contactmoment["url"], "object": drc.zaak(), "objectType": "zaak"},
        ),
        (
            "objectverzoeken",
            {"verzoek": verzoek["url"], "object": drc.zaak(), "objectType": "zaak"},
        ),
        (
            "verzoekinformatieobjecten",
            {"verzoek": verzoek["url"], "informatieobject": drc.add_document()},
        ),
    ]
    created = {collection: round_trip(collection, body) for collection, body in relations}

    # kic-001: the strict double called back and saw the committed row, on another request
    vio = created["verzoekinformatieobjecten"]
    assert drc.callbacks[-1] == (verzoek["url"], 200, [vio])
    assert len(drc.mirrors) == 1

    drc.zaak_relations = []
    for collection, item in reversed(created.items()):
        assert call("DELETE", f"{collection}/{uuid_of(item['url'])}").status_code == 204
        assert call("GET", f"{collection}/{uuid_of(item['url'])}").status_code == 404
    assert drc.mirrors == {} and drc.callbacks[-1] == (verzoek["url"], 200, [])

    for collection, item in (
        ("verzoeken", verzoek),
        ("contactmomenten", contactmoment),
        ("klanten", klant),
    ):
        assert call("DELETE", f"{collection}/{uuid_of(item['url'])}").status_code == 204
        assert call("GET", collection).json() == []
