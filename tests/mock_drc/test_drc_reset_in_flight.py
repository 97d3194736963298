"""Reset is atomic with respect to requests in flight: a request that started before a reset
neither writes nor journals after it (mock_drc.store's generations)."""

from __future__ import annotations

import pytest

from mock_drc.store import DrcState, StaleRequest

BASE = "http://drc.test"


@pytest.fixture
def state() -> DrcState:
    return DrcState(BASE)


def test_writes_of_a_request_from_before_a_reset_are_refused(state: DrcState) -> None:
    before = state.generation
    document = state.create_document()
    state.reset()
    with pytest.raises(StaleRequest) as refused:
        state.add_mirror_if_unique(document["url"], "http://k/verzoeken/1", "verzoek",
                                   generation=before)  # fmt: skip
    assert refused.value.status == 503 and refused.value.code == "reset-during-request"
    for write in (
        lambda: state.seed_document({}, generation=before),
        lambda: state.seed_zaak({}, generation=before),
        lambda: state.link_zaak("http://z/1", verzoek="http://k/1", generation=before),
        lambda: state.unlink_zaak("http://z/1", verzoek="http://k/1", generation=before),
        lambda: state.remove_mirror("x", generation=before),
        lambda: state.add_fault("GET", "/", status=500, generation=before),
    ):
        with pytest.raises(StaleRequest):
            write()
    assert state.snapshot()["documents"] == [] and state.faults() == []


def test_the_journal_entry_of_a_request_from_before_a_reset_is_dropped(state: DrcState) -> None:
    before = state.generation
    state.record({"method": "GET", "path": "/a"}, generation=before)
    state.reset()
    assert state.record({"method": "GET", "path": "/b"}, generation=before) is None
    assert state.journal() == []
    assert state.record({"method": "GET", "path": "/c"}, generation=state.generation)
    assert [e["path"] for e in state.journal()] == ["/c"]


def test_a_request_from_before_a_reset_takes_no_fault_set_after_it(state: DrcState) -> None:
    before = state.generation
    state.reset()
    state.add_fault("GET", "/", status=500)
    assert state.take_fault("GET", "/x", generation=before) is None
    assert state.take_fault("GET", "/x", generation=state.generation) is not None


def test_python_callers_without_a_generation_always_write(state: DrcState) -> None:
    state.reset()
    state.create_document()
    assert len(state.documents()) == 1
