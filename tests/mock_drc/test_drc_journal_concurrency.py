"""Concurrent requests from 8 threads: every request is journaled once, none is lost, and
the state stays consistent."""

from __future__ import annotations

import threading

import httpx

from mock_drc.testing import MockDrcHandle

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"
THREADS = 8
REQUESTS_PER_THREAD = 25


def test_eight_threads_lose_no_journal_entries(mock_drc: MockDrcHandle) -> None:
    documents = [mock_drc.create_document()["url"] for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    failures: list[str] = []

    def worker(number: int) -> None:
        with httpx.Client(
            base_url=mock_drc.url, timeout=10, headers={"Authorization": mock_drc.authorization()}
        ) as client:
            start.wait()
            for i in range(REQUESTS_PER_THREAD):
                response = client.post(
                    MIRRORS,
                    json={
                        "informatieobject": documents[number],
                        "object": f"https://zaken.example.com/zaken/{number}-{i}",
                        "objectType": "zaak",
                    },
                )
                if response.status_code != 201:
                    failures.append(response.text)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    entries = mock_drc.state.journal(method="POST", path=MIRRORS)
    assert len(entries) == THREADS * REQUESTS_PER_THREAD
    assert len({e["id"] for e in entries}) == len(entries)
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    objects = {e["body"]["object"] for e in entries}
    assert objects == {
        f"https://zaken.example.com/zaken/{n}-{i}"
        for n in range(THREADS)
        for i in range(REQUESTS_PER_THREAD)
    }
    assert len(mock_drc.state.mirrors()) == THREADS * REQUESTS_PER_THREAD


def test_concurrent_duplicates_create_exactly_one_mirror(mock_drc: MockDrcHandle) -> None:
    document = mock_drc.create_document()["url"]
    start = threading.Barrier(THREADS)
    statuses: list[int] = []

    def worker() -> None:
        start.wait()
        response = httpx.post(
            mock_drc.url + MIRRORS,
            timeout=10,
            headers={"Authorization": mock_drc.authorization()},
            json={
                "informatieobject": document,
                "objectType": "zaak",
                "object": "https://zaken.example.com/zaken/same",
            },
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [400] * (THREADS - 1)
    assert len(mock_drc.state.mirrors()) == 1
