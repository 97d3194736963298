"""Strict mode: the DRC calls the KIC back on mirror create and delete, and refuses when the
KIC's answer says the relation is not (or still) there, or when the KIC fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_drc.callback import kic_root
from mock_drc.config import DrcConfig
from mock_drc.testing import MockDrcHandle, running_mock_drc
from zgw.jwt import Client, verify_authorization
from zgw.serving import free_port

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


def _create(
    http: httpx.Client, document: dict[str, Any], verzoek: str, object_type: str = "verzoek"
) -> httpx.Response:
    return http.post(
        MIRRORS,
        json={"informatieobject": document["url"], "object": verzoek, "objectType": object_type},
    )


def _code(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    (param,) = response.json()["invalidParams"]
    assert param["name"] == "nonFieldErrors"
    return param["code"]


def _last_callback(drc: MockDrcHandle) -> dict[str, Any]:
    return drc.state.journal()[-1]["callback"]


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://kic.example.com/api/v1/verzoeken/abc", "https://kic.example.com/api/v1/"),
        (
            "http://h:8000/klantinteracties/api/v1/verzoeken/abc/",
            "http://h:8000/klantinteracties/api/v1/",
        ),
        ("https://kic.example.com/api/v1/klanten/abc", None),
        ("https://kic.example.com/api/v1/verzoeken/", None),
    ],
)
def test_kic_root_is_the_object_url_cut_before_verzoeken(url: str, root: str | None) -> None:
    assert kic_root(url) == root


def test_create_succeeds_when_the_kic_lists_the_relation(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, document: dict[str, Any]
) -> None:
    verzoek = kic.new_verzoek()
    kic.lists(verzoek, document["url"])
    response = _create(http, document, verzoek)
    assert response.status_code == 201, response.text
    (call,) = kic.requests()
    assert call.args.to_dict() == {"verzoek": verzoek, "informatieobject": document["url"]}
    client = verify_authorization(
        call.headers["Authorization"], {"mock-drc": Client("mock-drc", "mock-drc-secret")}
    )
    assert client.client_id == "mock-drc"
    callback = _last_callback(mock_drc)
    assert callback["outcome"] == "listed" and callback["status"] == 200
    assert callback["url"].startswith(kic.root + "verzoekinformatieobjecten?")


def test_create_is_refused_when_the_kic_does_not_list_it(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, document: dict[str, Any]
) -> None:
    verzoek = kic.new_verzoek()
    kic.lists(verzoek, document["url"], count=0)
    assert _code(_create(http, document, verzoek)) == "inconsistent-relation"
    assert mock_drc.state.mirrors() == []
    assert _last_callback(mock_drc)["outcome"] == "not-listed"


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (403, {"code": "permission_denied"}, "relation-validation-error"),
        (404, {"code": "not_found"}, "relation-validation-error"),
        (500, {"code": "error"}, "remote-server-error"),
        (503, {}, "remote-server-error"),
        (200, {"unexpected": "object"}, "remote-invalid-response"),
    ],
)
def test_create_maps_kic_failures_to_clear_codes(
    mock_drc: MockDrcHandle,
    http: httpx.Client,
    kic: Any,
    document: dict[str, Any],
    status: int,
    body: Any,
    code: str,
) -> None:
    kic.answers(status, body)
    assert _code(_create(http, document, kic.new_verzoek())) == code
    assert mock_drc.state.mirrors() == []
    assert _last_callback(mock_drc)["status"] == status


def test_create_with_a_non_json_answer_is_an_invalid_response(
    http: httpx.Client, kic: Any, document: dict[str, Any]
) -> None:
    kic.answers(200, text="<html>hello</html>")
    assert _code(_create(http, document, kic.new_verzoek())) == "remote-invalid-response"


def test_create_with_an_unreachable_kic(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    verzoek = f"http://127.0.0.1:{free_port()}/api/v1/verzoeken/abc"
    assert _code(_create(http, document, verzoek)) == "remote-unreachable"
    callback = _last_callback(mock_drc)
    assert callback["status"] is None and callback["outcome"] == "unreachable"


def test_create_with_a_kic_slower_than_the_timeout() -> None:
    # A listening socket nobody accepts from: the connection opens, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with running_mock_drc(DrcConfig(callback_timeout=0.2)) as drc:
            document = drc.create_document()
            response = httpx.post(
                drc.url + MIRRORS,
                headers={"Authorization": drc.authorization()},
                json={
                    "informatieobject": document["url"],
                    "objectType": "verzoek",
                    "object": f"http://127.0.0.1:{port}/api/v1/verzoeken/abc",
                },
            )
            assert _code(response) == "remote-unreachable"
            assert "Timeout" in drc.state.journal()[-1]["callback"]["detail"]


def test_create_without_callback_credentials_sends_no_token(kic: Any) -> None:
    with running_mock_drc(DrcConfig(callback_credentials=None)) as drc:
        doc = drc.create_document()
        verzoek = kic.new_verzoek()
        kic.lists(verzoek, doc["url"])
        response = httpx.post(
            drc.url + MIRRORS,
            headers={"Authorization": drc.authorization()},
            json={"informatieobject": doc["url"], "object": verzoek, "objectType": "verzoek"},
        )
    assert response.status_code == 201
    assert "Authorization" not in kic.requests()[0].headers


def test_strict_verzoek_url_must_allow_deriving_the_kic_root(
    http: httpx.Client, document: dict[str, Any]
) -> None:
    response = _create(http, document, "https://kic.example.com/api/v1/klanten/abc")
    assert response.status_code == 400
    assert response.json()["invalidParams"] == [
        {
            "name": "object",
            "code": "bad-url",
            "reason": response.json()["invalidParams"][0]["reason"],
        }
    ]


@pytest.mark.parametrize("object_type", ["zaak", "besluit"])
def test_zaak_and_besluit_relations_are_not_called_back(
    mock_drc: MockDrcHandle,
    http: httpx.Client,
    kic: Any,
    document: dict[str, Any],
    object_type: str,
) -> None:
    object_url = "https://zaken.example.com/api/v1/zaken/abc"
    created = _create(http, document, object_url, object_type)
    assert created.status_code == 201
    assert http.delete(created.json()["url"]).status_code == 204
    assert kic.requests() == []
    assert [e["callback"] for e in mock_drc.state.journal()] == [None, None]


@pytest.fixture
def mirror(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, document: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """A verzoek mirror created with a KIC that listed it; the KIC's answers are then reset."""
    verzoek = kic.new_verzoek()
    kic.lists(verzoek, document["url"])
    created = _create(http, document, verzoek)
    assert created.status_code == 201
    kic.server.clear()
    yield created.json()


def test_delete_succeeds_when_the_kic_no_longer_lists_it(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, mirror: dict[str, Any]
) -> None:
    kic.lists(mirror["object"], mirror["informatieobject"], count=0)
    assert http.delete(mirror["url"]).status_code == 204
    assert mock_drc.state.mirrors() == []
    (call,) = kic.requests()
    assert call.args.to_dict() == {
        "verzoek": mirror["object"],
        "informatieobject": mirror["informatieobject"],
    }
    assert _last_callback(mock_drc)["outcome"] == "not-listed"


def test_delete_is_refused_while_the_kic_still_lists_it(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, mirror: dict[str, Any]
) -> None:
    kic.lists(mirror["object"], mirror["informatieobject"], count=1)
    assert _code(http.delete(mirror["url"])) == "remote-relation-exists"
    assert mock_drc.state.mirrors() == [mirror]


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "relation-lookup-error"), (401, "relation-lookup-error"), (502, "remote-server-error")],
)
def test_delete_maps_kic_failures(
    mock_drc: MockDrcHandle,
    http: httpx.Client,
    kic: Any,
    mirror: dict[str, Any],
    status: int,
    code: str,
) -> None:
    kic.answers(status, {"code": "x"})
    assert _code(http.delete(mirror["url"])) == code
    assert mock_drc.state.mirrors() == [mirror]


def test_delete_with_an_unreachable_kic(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    document = mock_drc.create_document()
    verzoek = f"http://127.0.0.1:{free_port()}/api/v1/verzoeken/abc"
    mirror = mock_drc.state.add_mirror_if_unique(document["url"], verzoek, "verzoek")
    assert mirror is not None
    assert _code(http.delete(mirror["url"])) == "remote-unreachable"
    assert mock_drc.state.mirrors() == [mirror]
