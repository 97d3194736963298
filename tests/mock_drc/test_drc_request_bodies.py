"""Request bodies of the mock DRC: read chunked or not, bounded, and parsed by zgw.bodies, so
bad JSON is a 400 ValidatieFout and the journal can always be served again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from mock_drc.recording import MAX_BODY_BYTES
from mock_drc.testing import MockDrcHandle

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


def _pieces(*parts: bytes) -> Iterator[bytes]:
    yield from parts  # a generator: httpx sends it with Transfer-Encoding: chunked


def test_a_chunked_mirror_create_is_read(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    response = http.post(
        MIRRORS,
        content=_pieces(b'{"informatieobject": "', document["url"].encode(),
                        b'", "object": "https://zaken.example.com/zaken/1", "objectType": "zaak"}'),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert len(mock_drc.state.mirrors()) == 1


def test_a_chunked_control_api_seed_is_read(mock_drc: MockDrcHandle) -> None:
    response = httpx.post(
        mock_drc.control_root + "documents", content=_pieces(b'{"titel": ', b'"x"}')
    )
    assert response.status_code == 201 and response.json()["titel"] == "x"
    empty = httpx.post(mock_drc.control_root + "zaken", content=_pieces(b""))
    assert empty.status_code == 201  # an empty body means "all defaults" there


def test_a_chunked_body_over_the_limit_is_413(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    block = b" " * 1_000_000
    pieces = _pieces(*([block] * (MAX_BODY_BYTES // len(block) + 1)))
    response = http.post(MIRRORS, content=pieces, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert mock_drc.state.journal()[-1]["status"] == 413


def test_bad_json_is_a_validatiefout_on_non_field_errors(http: httpx.Client) -> None:
    for content in (b"{not json", b'{"a": NaN}', b"[" * 200 + b"]" * 200, b""):
        response = http.post(MIRRORS, content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["code"] == "parse_error"
        assert [(p["name"], p["code"]) for p in body["invalidParams"]] == [
            ("nonFieldErrors", "parse_error")
        ]


def test_the_journal_keeps_refused_json_as_text(
    mock_drc: MockDrcHandle, http: httpx.Client
) -> None:
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    surrogate = b'{"object": "\\ud800"}'
    for content in (deep, surrogate):
        http.post(MIRRORS, content=content, headers={"Content-Type": "application/json"})
    journal = httpx.get(mock_drc.control_root + "journal")
    assert journal.status_code == 200, journal.text
    assert [e["body"] for e in journal.json()] == [deep.decode(), surrogate.decode()]
