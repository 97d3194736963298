"""The journal's ``mentions`` filter and the call-backs each entry records (issue 12 item 5):
the harness finds one scenario's DRC requests by the URLs it knows, without a time window."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_drc.journal import Journal
from mock_drc.testing import MockDrcHandle

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"
DRC = "http://drc.test"


def _entry(path: str, *, query: dict | None = None, body: Any = None, resource: Any = None):
    return {"method": "GET", "path": path, "query": query or {}, "body": body,
            "resource": resource}  # fmt: skip


@pytest.fixture
def journal() -> Journal:
    journal = Journal()
    journal.record(_entry(MIRRORS, body={"object": "http://kic/api/v1/verzoeken/a"}))
    journal.record(_entry(MIRRORS, query={"object": "http://kic/api/v1/verzoeken/b"}))
    journal.record(_entry(f"{MIRRORS}/m1", resource={"object": "http://kic/api/v1/verzoeken/a"}))
    journal.record(_entry("/documenten/api/v1/enkelvoudiginformatieobjecten/d1"))
    journal.record(_entry(MIRRORS, body="text mentioning http://kic/api/v1/verzoeken/b"))
    return journal


def _ids(journal: Journal, *mentions: str, **filters: Any) -> list[int]:
    return [e["id"] for e in journal.entries(mentions=list(mentions), **filters)]


def test_an_entry_mentions_what_its_body_query_or_resource_contains(journal: Journal) -> None:
    assert _ids(journal, "http://kic/api/v1/verzoeken/a") == [1, 3]
    assert _ids(journal, "http://kic/api/v1/verzoeken/b") == [2, 5]


def test_a_url_mentions_the_entry_of_its_own_path(journal: Journal) -> None:
    document = f"{DRC}/documenten/api/v1/enkelvoudiginformatieobjecten/d1"
    assert _ids(journal, document) == [4]
    assert _ids(journal, document + "/") == [4]


def test_several_mentions_match_any_and_combine_with_other_filters(journal: Journal) -> None:
    both = ("http://kic/api/v1/verzoeken/a", "http://kic/api/v1/verzoeken/b")
    assert _ids(journal, *both) == [1, 2, 3, 5]
    assert _ids(journal, *both, since_id=2) == [3, 5]
    assert _ids(journal, *both, path=MIRRORS) == [1, 2, 5]


def test_no_mentions_match_nothing_and_absent_mentions_do_not_filter(journal: Journal) -> None:
    assert _ids(journal) == []
    assert _ids(journal, "") == []
    assert len(journal.entries()) == 5


def test_the_control_api_takes_repeated_mentions(
    mock_drc: MockDrcHandle, http: httpx.Client, document: dict[str, Any]
) -> None:
    http.get(document["url"])
    other = mock_drc.create_document()
    http.get(other["url"])
    http.get(MIRRORS, params={"informatieobject": document["url"]})
    control = httpx.Client(base_url=mock_drc.control_root, timeout=10)
    with control:
        found = control.get("journal", params=[("mentions", document["url"])]).json()
        assert [(e["path"], e["query"]) for e in found] == [
            (document["url"].removeprefix(mock_drc.url), {}),
            (MIRRORS, {"informatieobject": document["url"]}),
        ]
        both = [("mentions", document["url"]), ("mentions", other["url"])]
        assert len(control.get("journal", params=both).json()) == 3


def test_entries_record_the_resource_and_every_call_back_with_the_answer(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, document: dict[str, Any]
) -> None:
    verzoek = kic.new_verzoek()
    kic.lists(verzoek, document["url"])
    created = http.post(
        MIRRORS,
        json={"informatieobject": document["url"], "object": verzoek, "objectType": "verzoek"},
    )
    assert created.status_code == 201, created.text
    (entry,) = mock_drc.state.journal(method="POST")
    assert entry["resource"] == created.json()
    (call,) = entry["callbacks"]
    assert entry["callback"] == call
    assert call["outcome"] == "listed" and call["status"] == 200 and call["error"] is None
    assert verzoek in call["answer"] and call["elapsed_ms"] >= 0


def test_a_call_back_answer_is_kept_only_in_part(
    mock_drc: MockDrcHandle, http: httpx.Client, kic: Any, document: dict[str, Any]
) -> None:
    kic.answers(404, text="x" * 10_000)
    http.post(
        MIRRORS,
        json={"informatieobject": document["url"], "object": kic.new_verzoek(),
              "objectType": "verzoek"},
    )  # fmt: skip
    (call,) = mock_drc.state.journal()[-1]["callbacks"]
    assert call["outcome"] == "client-error"
    assert call["answer"].startswith("x" * 2000) and call["answer"].endswith("[10000 bytes]")
    assert len(call["answer"]) < 2100
