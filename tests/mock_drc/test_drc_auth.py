"""JWT on the DRC and zaken endpoints: ZGW 403 codes, accept-any-token mode, scopes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mock_drc.config import DOCUMENTEN_LEZEN, DrcConfig
from mock_drc.testing import MockDrcHandle, running_mock_drc
from zgw.jwt import Client, bearer

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "permission_denied"),
        ("Basic a2ljOmtpYw==", "permission_denied"),
        ("Bearer not-a-jwt", "jwt-decode-error"),
        (bearer("stranger", "kic-secret"), "invalid-client-identifier"),
        (bearer("kic", "wrong-secret"), "invalid-jwt-signature"),
        (bearer("kic", "kic-secret", extra_claims={"exp": int(time.time()) - 600}), "jwt-expired"),
        (
            bearer("kic", "kic-secret", extra_claims={"client_id": None}),
            "missing-client-identifier",
        ),
    ],
)
def test_bad_tokens_get_403_with_the_zgw_code(
    mock_drc: MockDrcHandle, document: dict[str, Any], authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(document["url"], headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert response.headers["API-version"] == "1.5.0"
    assert mock_drc.state.journal()[-1]["status"] == 403


def test_every_drc_endpoint_requires_a_token(mock_drc: MockDrcHandle) -> None:
    zaak = mock_drc.state.create_zaak()
    urls = [
        ("GET", mock_drc.documents_root + "enkelvoudiginformatieobjecten"),
        ("POST", mock_drc.documents_root + "enkelvoudiginformatieobjecten"),
        ("GET", mock_drc.documents_root + "objectinformatieobjecten"),
        ("POST", mock_drc.documents_root + "objectinformatieobjecten"),
        ("DELETE", mock_drc.documents_root + "objectinformatieobjecten/abc"),
        ("GET", zaak["url"]),
        ("GET", mock_drc.zaken_root + "zaakverzoeken"),
        ("GET", mock_drc.zaken_root + "zaakcontactmomenten"),
    ]
    for method, url in urls:
        response = httpx.request(method, url, json={} if method == "POST" else None)
        assert response.status_code == 403, (method, url)


def test_accept_any_token_mode_lets_everything_in() -> None:
    with running_mock_drc(DrcConfig(accept_any_token=True)) as drc:
        document = drc.create_document()
        assert httpx.get(document["url"]).status_code == 200
        assert (
            httpx.get(document["url"], headers={"Authorization": "Bearer junk"}).status_code == 200
        )


def test_scopes_are_checked_per_operation() -> None:
    reader = Client("reader", "reader-secret", frozenset({DOCUMENTEN_LEZEN}))
    nobody = Client("nobody", "nobody-secret", frozenset({"zaken.lezen"}))
    with running_mock_drc(
        DrcConfig(clients={"reader": reader, "nobody": nobody}, strict=False)
    ) as drc:
        document = drc.create_document()
        drc.state.add_mirror_if_unique(document["url"], "https://z.example.com/zaken/1", "zaak")
        as_reader = {"Authorization": bearer("reader", "reader-secret")}
        as_nobody = {"Authorization": bearer("nobody", "nobody-secret")}
        assert httpx.get(document["url"], headers=as_reader).status_code == 200
        refused = httpx.post(drc.url + MIRRORS, headers=as_reader, json={})
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
        assert len(httpx.get(drc.url + MIRRORS, headers=as_reader).json()) == 1
        # A real DRC filters lists by read rights: no rights, empty list.
        assert httpx.get(drc.url + MIRRORS, headers=as_nobody).json() == []
        assert httpx.get(document["url"], headers=as_nobody).status_code == 403


def test_a_client_configured_without_scopes_may_do_everything() -> None:
    with running_mock_drc(DrcConfig(clients={"dev": Client("dev", "dev-secret")})) as drc:
        document = drc.create_document()
        assert (
            httpx.get(
                document["url"], headers={"Authorization": bearer("dev", "dev-secret")}
            ).status_code
            == 200
        )
