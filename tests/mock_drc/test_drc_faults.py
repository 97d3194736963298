"""Fault rules: status, delay, drop, count, method and path-prefix matching, journaling."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from falcon.testing import TestClient

from mock_drc.app import create_app
from mock_drc.config import DrcConfig
from mock_drc.fields import FieldErrors
from mock_drc.store import DrcState
from mock_drc.testing import MockDrcHandle

EIOS = "/documenten/api/v1/enkelvoudiginformatieobjecten"
MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


def test_status_fault_answers_instead_of_handling(
    mock_drc: MockDrcHandle, http: httpx.Client
) -> None:
    rule = mock_drc.state.add_fault("POST", MIRRORS, status=500)
    response = http.post(MIRRORS, json={})
    assert response.status_code == 500
    assert response.json()["code"] == "injected-fault"
    assert response.headers["API-version"] == "1.5.0"
    entry = mock_drc.state.journal()[-1]
    assert entry["status"] == 500 and entry["fault"]["id"] == rule["id"]
    assert entry["body"] == {}
    # Handled normally again once the rule is used up.
    assert http.post(MIRRORS, json={}).status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ({"detail": "nee"}, "application/json", b'{"detail": "nee"}'),
        ("kapot", "text/plain", b"kapot"),
    ],
)
def test_status_fault_with_a_body(
    mock_drc: MockDrcHandle, http: httpx.Client, body: Any, content_type: str, expected: bytes
) -> None:
    mock_drc.state.add_fault("GET", EIOS, status=418, body=body)
    response = http.get(EIOS)
    assert response.status_code == 418
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.content == expected


def test_count_and_method_matching(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    mock_drc.state.add_fault("get", EIOS, status=502, count=2)
    assert http.post(EIOS, json={}).status_code == 400, "another method is not affected"
    assert [http.get(EIOS).status_code for _ in range(3)] == [502, 502, 200]
    assert mock_drc.state.faults() == []


def test_any_method_and_path_prefix(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    mock_drc.state.add_fault("*", "/documenten/api/v1/enkel", status=504, count=3)
    assert http.get(document["url"]).status_code == 504
    assert http.post(EIOS, json={}).status_code == 504
    assert http.get(MIRRORS).status_code == 200, "a path outside the prefix is not affected"
    assert http.get(EIOS).status_code == 504


def test_first_matching_rule_wins(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    first = mock_drc.state.add_fault("GET", "/documenten", status=500)
    mock_drc.state.add_fault("GET", EIOS, status=503)
    assert http.get(EIOS).status_code == 500
    assert http.get(EIOS).status_code == 503
    assert mock_drc.state.journal()[0]["fault"]["id"] == first["id"]


def test_control_api_is_never_faulted(mock_drc: MockDrcHandle) -> None:
    mock_drc.state.add_fault("*", "/", status=500)
    assert httpx.get(mock_drc.control_root + "state").status_code == 200
    assert len(mock_drc.state.faults()) == 1


def test_delay_fault_sleeps_then_handles(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    mock_drc.state.add_fault("GET", EIOS, delay=0.2)
    response = http.get(document["url"])
    assert response.status_code == 200 and response.json() == document
    entry = mock_drc.state.journal()[-1]
    assert entry["fault"]["delay"] == 0.2
    assert entry["duration_ms"] >= 200


def test_delay_fault_is_seen_as_a_timeout_by_an_impatient_client(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    mock_drc.state.add_fault("GET", EIOS, delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        http.get(document["url"], timeout=0.1)


def test_delay_with_status(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    mock_drc.state.add_fault("GET", EIOS, delay=0.05, status=503)
    assert http.get(EIOS).status_code == 503


def test_drop_closes_the_connection_without_a_response(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    mock_drc.state.add_fault("POST", MIRRORS, drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(MIRRORS, json={"informatieobject": document["url"]})
    entry = mock_drc.state.journal()[-1]
    assert entry["status"] is None and entry["fault"]["drop"] is True
    assert entry["body"] == {"informatieobject": document["url"]}
    # The server keeps serving afterwards.
    assert http.get(document["url"]).status_code == 200


def test_faults_apply_per_request_under_concurrency(mock_drc: MockDrcHandle) -> None:
    mock_drc.state.add_fault("GET", EIOS, status=503, count=10)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(headers={"Authorization": mock_drc.authorization()}) as client:
            for _ in range(5):
                status = client.get(mock_drc.url + EIOS).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(503) == 10 and len(statuses) == 20


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 500, "count": -1},
        {"status": 700},
        {"drop": True, "status": 500},
        {},
        {"delay": 1e6},
    ],
)
def test_invalid_rules_are_refused_from_python(
    mock_drc: MockDrcHandle, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(FieldErrors):
        mock_drc.state.add_fault("GET", "/x", **kwargs)


def test_drop_in_a_server_without_a_socket_is_a_clear_502() -> None:
    state = DrcState("http://drc.example.com")
    client = TestClient(create_app(DrcConfig(accept_any_token=True), state))
    state.add_fault("GET", EIOS, drop=True)
    response = client.simulate_get(EIOS)
    assert response.status_code == 502
    assert response.json["code"] == "drop-unsupported"
    assert client.simulate_get(EIOS).status_code == 200
