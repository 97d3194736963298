"""DrcState's Python API as the harness uses it directly."""

from __future__ import annotations

import pytest

from mock_drc.store import DrcState, NoBaseUrl
from mock_drc.testing import MockDrcHandle


def test_urls_need_a_base_until_one_is_known() -> None:
    state = DrcState()
    with pytest.raises(NoBaseUrl, match="public base URL"):
        state.create_document()
    explicit = state.create_document(base_url="https://drc.example.com/")
    assert explicit["url"].startswith("https://drc.example.com/documenten/api/v1/enkelvoudig")
    state.bind("http://127.0.0.1:1")
    state.bind("http://127.0.0.1:2")
    assert state.base_url == "http://127.0.0.1:1", "the first base wins"


def test_callers_get_copies(mock_drc: MockDrcHandle) -> None:
    document = mock_drc.create_document()
    document["titel"] = "changed behind the server's back"
    mock_drc.state.documents()[0]["titel"] = "again"
    assert mock_drc.state.documents()[0]["titel"] == "Mock document"


def test_identificaties_are_unique(mock_drc: MockDrcHandle) -> None:
    identificaties = {mock_drc.create_document()["identificatie"] for _ in range(5)}
    assert len(identificaties) == 5


def test_mirror_uniqueness_in_the_store(mock_drc: MockDrcHandle) -> None:
    state = mock_drc.state
    doc = mock_drc.create_document()["url"]
    assert state.add_mirror_if_unique(doc, "https://z.example.com/1", "zaak") is not None
    assert state.add_mirror_if_unique(doc, "https://z.example.com/1", "besluit") is None
    mirror = state.mirrors()[0]
    assert state.remove_mirror(mirror["url"].rsplit("/", 1)[1])
    assert state.mirrors() == []


def test_reset_forgets_everything_but_journal_ids_keep_growing(mock_drc: MockDrcHandle) -> None:
    state = mock_drc.state
    state.record({"method": "GET", "path": "/a"})
    mock_drc.create_document()
    state.create_zaak()
    state.add_fault("GET", "/", status=500)
    state.reset()
    assert state.snapshot() == {
        "baseUrl": mock_drc.url,
        "documents": [],
        "mirrors": [],
        "zaken": [],
        "links": [],
        "faults": [],
    }
    assert state.record({"method": "GET", "path": "/b"})["id"] == 2


def test_fixture_handle_shape(mock_drc: MockDrcHandle) -> None:
    assert mock_drc.url.startswith("http://127.0.0.1:") and not mock_drc.url.endswith("/")
    assert mock_drc.documents_root == mock_drc.url + "/documenten/api/v1/"
    assert mock_drc.zaken_root == mock_drc.url + "/zaken/api/v1/"
    assert mock_drc.config.strict is True
