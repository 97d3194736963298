"""The control API under /_mock/: journal, reset, seeding, faults and state over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_drc.testing import MockDrcHandle

EIOS = "/documenten/api/v1/enkelvoudiginformatieobjecten"


@pytest.fixture
def control(mock_drc: MockDrcHandle) -> httpx.Client:
    """A client on /_mock/ without any token: the control API needs none."""
    with httpx.Client(base_url=mock_drc.control_root, timeout=10) as client:
        yield client


def test_seed_a_document_with_defaults_and_with_fields(
    mock_drc: MockDrcHandle, control: httpx.Client, http: httpx.Client
) -> None:
    plain = control.post("documents")
    assert plain.status_code == 201
    titled = control.post("documents", json={"titel": "Bijlage"}).json()
    assert titled["titel"] == "Bijlage"
    assert http.get(plain.json()["url"]).status_code == 200
    assert [d["url"] for d in mock_drc.state.documents()] == [plain.json()["url"], titled["url"]]


def test_seeding_works_with_curl_style_form_content_type(control: httpx.Client) -> None:
    response = control.post(
        "documents",
        content=b'{"titel": "x"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201 and response.json()["titel"] == "x"


@pytest.mark.parametrize(
    ("path", "content", "name"),
    [
        ("documents", b'{"taal": "nederlands"}', "taal"),
        ("documents", b'{"kleur": "blauw"}', "kleur"),
        ("documents", b"[1]", "nonFieldErrors"),
        ("documents", b'{"base_url": "http://x"}', "base_url"),
        ("zaken", b'{"base_url": "http://x"}', "base_url"),
        ("zaken", b'{"zaaktype": "nope"}', "zaaktype"),
        ("zaken/links", b'{"zaak": "https://z.example.com/zaken/1"}', "nonFieldErrors"),
        ("zaken/links", b'{"zaak": "https://z/1", "verzoek": "https://k/1", "x": 1}', "x"),
        ("faults", b'{"method": "GET", "path": "documenten"}', "path"),
        ("faults", b'{"method": "GET", "path": "/x", "status": 99}', "status"),
        ("faults", b'{"method": "GET", "path": "/x", "delay": -1}', "delay"),
        ("faults", b'{"method": "GET", "path": "/x", "drop": "yes"}', "drop"),
        ("faults", b'{"method": "GET", "path": "/x", "status": 500, "count": 0}', "count"),
        ("faults", b'{"method": "GET", "path": "/x"}', "nonFieldErrors"),
        (
            "faults",
            b'{"method": "GET", "path": "/x", "status": 500, "drop": true}',
            "nonFieldErrors",
        ),
        ("faults", b'{"method": "GET", "path": "/x", "status": 500, "kind": 1}', "kind"),
    ],
)
def test_bad_control_input_gets_a_400_naming_the_field(
    control: httpx.Client, path: str, content: bytes, name: str
) -> None:
    response = control.post(path, content=content)
    assert response.status_code == 400, response.text
    assert name in {p["name"] for p in response.json()["invalidParams"]}


def test_malformed_json_is_a_parse_error(control: httpx.Client) -> None:
    response = control.post("faults", content=b"{")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_zaken_and_links_via_control(
    mock_drc: MockDrcHandle, control: httpx.Client, http: httpx.Client
) -> None:
    zaak = control.post("zaken", json={"omschrijving": "Klacht"}).json()
    link = control.post(
        "zaken/links", json={"zaak": zaak["url"], "verzoek": "https://k.example.com/verzoeken/1"}
    )
    assert link.status_code == 201
    listed = http.get(mock_drc.zaken_root + "zaakverzoeken", params={"zaak": zaak["url"]}).json()
    assert listed == [link.json()]


def test_unlinking_a_zaak_via_control(
    mock_drc: MockDrcHandle, control: httpx.Client, http: httpx.Client
) -> None:
    zaak = control.post("zaken").json()["url"]
    verzoek = "https://k.example.com/verzoeken/1"
    link = control.post("zaken/links", json={"zaak": zaak, "verzoek": verzoek}).json()
    control.post("zaken/links", json={"zaak": zaak, "contactmoment": verzoek})
    removed = control.request("DELETE", "zaken/links", json={"zaak": zaak, "verzoek": verzoek})
    assert removed.status_code == 200 and removed.json() == {"removed": [link]}
    assert http.get(mock_drc.zaken_root + "zaakverzoeken", params={"zaak": zaak}).json() == []
    assert len(mock_drc.state.links("contactmoment")) == 1, "the other kind stays"
    again = control.request("DELETE", "zaken/links", json={"zaak": zaak, "verzoek": verzoek})
    assert again.json() == {"removed": []}
    bad = control.request("DELETE", "zaken/links", json={"zaak": zaak})
    assert bad.status_code == 400


def test_removing_mirrors_behind_the_kics_back(
    mock_drc: MockDrcHandle, control: httpx.Client, document: dict[str, Any]
) -> None:
    state = mock_drc.state
    other = state.create_document()
    kept = state.add_mirror_if_unique(other["url"], "http://k/verzoeken/1", "verzoek")
    gone = state.add_mirror_if_unique(document["url"], "http://k/verzoeken/1", "verzoek")
    removed = control.request(
        "DELETE",
        "mirrors",
        json={"informatieobject": document["url"], "object": "http://k/verzoeken/1"},
    )
    assert removed.status_code == 200 and removed.json() == {"removed": [gone]}
    assert state.mirrors() == [kept]
    assert state.journal() == [], "behind the KIC's back: no journal entry"
    again = control.request("DELETE", "mirrors", json={"informatieobject": document["url"]})
    assert again.json() == {"removed": []}
    for body, name in (({}, "nonFieldErrors"), ({"x": "y"}, "x"), ({"object": 3}, "object")):
        bad = control.request("DELETE", "mirrors", json=body)
        assert bad.status_code == 400
        assert bad.json()["invalidParams"][0]["name"] == name


def test_journal_filters(
    mock_drc: MockDrcHandle, control: httpx.Client, http: httpx.Client, document: dict[str, Any]
) -> None:
    http.get(document["url"])
    http.get(EIOS)
    http.post("/documenten/api/v1/objectinformatieobjecten", json={"x": 1})
    everything = control.get("journal").json()
    assert [e["method"] for e in everything] == ["GET", "GET", "POST"]
    assert [e["id"] for e in control.get("journal", params={"method": "post"}).json()] == [
        everything[2]["id"]
    ]
    assert len(control.get("journal", params={"path": EIOS}).json()) == 1
    assert len(control.get("journal", params={"path_contains": "enkelvoudig"}).json()) == 2
    assert control.get("journal", params={"since": everything[1]["id"]}).json() == everything[2:]
    post = everything[2]
    assert post["body"] == {"x": 1} and post["status"] == 400
    assert post["headers"]["Authorization"] == http.headers["Authorization"]
    assert post["query"] == {} and post["fault"] is None and post["callback"] is None
    assert post["duration_ms"] >= 0 and post["time"].endswith("Z")
    # The same view from Python, and the control API itself is never journaled.
    assert mock_drc.state.journal(method="GET", path_contains="enkelvoudig") == everything[:2]
    assert all(not e["path"].startswith("/_mock/") for e in control.get("journal").json())


def test_journal_keeps_query_and_text_bodies(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    http.get(EIOS, params={"bronorganisatie": "123"})
    http.post(EIOS, content=b"plain words", headers={"Content-Type": "application/json"})
    first, second = mock_drc.state.journal()
    assert first["query"] == {"bronorganisatie": "123"}
    assert second["body"] == "plain words" and second["status"] == 400


def test_bad_journal_queries(control: httpx.Client) -> None:
    assert control.get("journal", params={"since": "yesterday"}).status_code == 400
    assert control.get("journal", params={"verb": "GET"}).status_code == 400


def test_clear_journal_and_reset(
    mock_drc: MockDrcHandle, control: httpx.Client, http: httpx.Client, document: dict[str, Any]
) -> None:
    http.get(document["url"])
    assert control.delete("journal").status_code == 204
    assert control.get("journal").json() == []
    control.post("zaken")
    control.post("faults", json={"method": "GET", "path": "/x", "status": 500})
    http.get(document["url"])
    assert control.post("reset").status_code == 204
    state = control.get("state").json()
    assert (state["documents"], state["mirrors"], state["zaken"], state["faults"]) == (
        [],
        [],
        [],
        [],
    )
    assert control.get("journal").json() == []


def test_state_shows_records_and_a_config_summary_without_secrets(
    mock_drc: MockDrcHandle, control: httpx.Client, document: dict[str, Any]
) -> None:
    state = control.get("state").json()
    assert state["documents"] == [document]
    assert state["baseUrl"] == mock_drc.url
    assert state["config"]["strict"] is True
    assert state["config"]["clients"] == ["kic"]
    assert state["config"]["callbackClientId"] == "mock-drc"
    assert "secret" not in str(state["config"]).lower()


def test_faults_via_control(control: httpx.Client, http: httpx.Client) -> None:
    rule = control.post("faults", json={"method": "GET", "path": EIOS, "status": 503, "count": 2})
    assert rule.status_code == 201
    assert control.get("faults").json() == [rule.json()]
    assert http.get(EIOS).status_code == 503
    assert control.get("faults").json()[0]["count"] == 1
    assert control.delete(f"faults/{rule.json()['id']}").status_code == 204
    assert control.delete(f"faults/{rule.json()['id']}").status_code == 404
    assert control.delete("faults/abc").status_code == 404
    assert http.get(EIOS).status_code == 200
    control.post("faults", json={"method": "*", "path": "/", "status": 500})
    assert control.delete("faults").status_code == 204
    assert control.get("faults").json() == []


def test_unknown_control_path_is_a_404_fout(control: httpx.Client) -> None:
    response = control.get("nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
