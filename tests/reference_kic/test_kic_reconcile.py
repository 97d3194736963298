"""kic-001 work a request could not finish is finished by the reconciler (reconcile.py).

The KICs here run with the background reconciler off; each test runs rounds itself through a
second :class:`DrcSync` on the same database file, as another gunicorn worker would.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import time
import uuid as uuid_module
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kic_testkit import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    DrcDouble,
    Fault,
    ServedKic,
    make_config,
    uuid_of,
    verzoek_body,
)
from polling import wait_for

from reference_kic.app import create_app
from reference_kic.config import DrcCredential, KicConfig
from reference_kic.defects import Defects
from reference_kic.drc_sync import DrcSync
from reference_kic.ownership import new_owner, owner_alive, process_identity
from reference_kic.reconcile import BATCH, MAX_BACKOFF, Reconciler, Round
from reference_kic.remote import RemoteApis
from reference_kic.storage import Store
from zgw import procfs
from zgw.errors import ValidationFailed

# The KIC's DRC timeout in these tests: generous, so a loaded CI machine is no "unreachable DRC".
TIMEOUT = 2.0
LATER = 3600.0  # a round "an hour later": every settle period has passed
VIOS = "verzoekinformatieobjecten"


@pytest.fixture
def served(make_served_kic: Any, drc: DrcDouble) -> ServedKic:
    return make_served_kic(http_timeout=TIMEOUT, reconcile_interval=0)


def db_of(kic: ServedKic) -> str:
    return kic.db_path  # set by make_served_kic


def reconciler_for(kic: ServedKic, drc: DrcDouble, **config: Any) -> Reconciler:
    config.setdefault("drc_credentials", [DrcCredential(drc.url + "/", DRC_CLIENT_ID, DRC_SECRET)])
    kic_config = KicConfig(db_path=db_of(kic), http_timeout=TIMEOUT, **config)
    sync = DrcSync(
        Store(kic_config.db_path),
        RemoteApis(kic_config),
        Defects(),
        kic_config.public_base_url,
    )
    return Reconciler(sync, settle=TIMEOUT + 1.0, stale=120.0)


def later_round(reconciler: Reconciler) -> Round:
    return reconciler.run_once(now=time.time() + LATER)


def rows(kic: ServedKic) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_of(kic)) as conn:
        return conn.execute(f"SELECT uuid, hidden, sync, sync_owner FROM {VIOS}").fetchall()


def pair(kic: ServedKic, drc: DrcDouble) -> dict[str, str]:
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    return {"verzoek": verzoek, "informatieobject": drc.add_document()}


# -- creates whose DRC answer never came --------------------------------------------------------
def test_mirror_made_after_the_kic_gave_up_is_removed_by_the_reconciler(served, drc):
    drc.strict = False  # no call-back: nothing stops the late write but the reconciler
    body = pair(served, drc)
    drc.faults[("POST", "mirrors")] = Fault(None, delay=TIMEOUT + 0.5)
    response = served.call("POST", VIOS, json=body)
    assert response.status_code == 400, response.text
    assert "not kept" in response.json()["invalidParams"][0]["reason"]
    assert served.call("GET", VIOS).json() == []
    del drc.faults[("POST", "mirrors")]
    assert wait_for(lambda: len(drc.mirrors) == 1), "the DRC never wrote its late mirror"
    [(_, hidden, sync, owner)] = rows(served)
    assert (hidden, sync, owner) == (1, "unmirror", None)  # left to the reconciler

    result = later_round(reconciler_for(served, drc))

    assert len(result.removed) == 1 and not result.failed, result
    assert drc.mirrors == {} and rows(served) == []


def test_a_late_mirror_found_right_away_keeps_the_relation(served, drc):
    body = pair(served, drc)
    # The DRC made the mirror but its answer was lost (here: it answers 500 anyway).
    mirror = {"url": f"{drc.drc_root}objectinformatieobjecten/{uuid_module.uuid4()}"}
    drc.mirrors["made"] = {**mirror, "object": body["verzoek"], **body, "objectType": "verzoek"}
    drc.faults[("POST", "mirrors")] = Fault(500)
    response = served.call("POST", VIOS, json=body)
    assert response.status_code == 201, response.text
    [(_, hidden, sync, owner)] = rows(served)
    assert (hidden, sync, owner) == (0, None, None)
    assert [r["url"] for r in served.call("GET", VIOS).json()] == [response.json()["url"]]


def test_a_pair_being_removed_is_refused_with_a_retry_hint(served, drc):
    body = pair(served, drc)
    drc.faults[("POST", "mirrors")] = Fault(0)  # hangs: the KIC gives up, outcome unknown
    assert served.call("POST", VIOS, json=body).status_code == 400
    drc.release.set()
    del drc.faults[("POST", "mirrors")]
    again = served.call("POST", VIOS, json=body)
    assert again.status_code == 400
    [problem] = again.json()["invalidParams"]
    assert problem["code"] == "unique" and "retry" in problem["reason"]
    later_round(reconciler_for(served, drc))
    assert served.call("POST", VIOS, json=body).status_code == 201


# -- deletes whose DRC answer never came --------------------------------------------------------
def test_delete_without_answer_restores_and_the_reconciler_checks_the_mirror(served, drc):
    vio = served.create(VIOS, pair(served, drc))
    # The DRC deletes the mirror but its answer never arrives; the KIC's re-check fails too.
    drc.faults[("DELETE", "mirror")] = Fault(None, delay=TIMEOUT + 0.3)
    drc.faults[("GET", "mirrors")] = Fault(503, skip=1)
    drc.strict = False
    response = served.call("DELETE", vio["url"].split("/api/v1/", 1)[1])
    assert response.status_code == 409, response.text
    assert served.call("GET", VIOS).json() == [vio]  # nothing deleted, visible again
    drc.faults.clear()
    assert wait_for(lambda: drc.mirrors == {}), "the late DRC delete never happened"
    [(_, hidden, sync, owner)] = rows(served)
    assert (hidden, sync, owner) == (0, "mirror", None)

    drc.strict = True
    result = later_round(reconciler_for(served, drc))

    assert result.mirrored == [vio["url"].rsplit("/", 1)[1]], result
    [mirror] = drc.mirrors.values()
    assert (mirror["object"], mirror["informatieobject"]) == (
        vio["verzoek"],
        vio["informatieobject"],
    )
    assert rows(served)[0][1:] == (0, None, None)


def test_verzoek_delete_takes_a_hidden_leftover_with_it(served, drc):
    body = pair(served, drc)
    drc.faults[("POST", "mirrors")] = Fault(0)
    assert served.call("POST", VIOS, json=body).status_code == 400  # leaves a hidden row
    drc.release.set()
    drc.faults.clear()
    verzoek_path = body["verzoek"].split("/api/v1/", 1)[1]
    assert served.call("DELETE", verzoek_path).status_code == 204
    assert rows(served) == [] and drc.mirrors == {}


def test_failed_cascade_keeps_a_hidden_leftover_hidden(served, drc):
    body = pair(served, drc)
    visible = served.create(VIOS, {**body, "informatieobject": drc.add_document()})
    drc.faults[("POST", "mirrors")] = Fault(0)
    assert served.call("POST", VIOS, json=body).status_code == 400
    drc.release.set()
    drc.faults.clear()
    drc.faults[("DELETE", "mirror")] = Fault(500)
    verzoek_path = body["verzoek"].split("/api/v1/", 1)[1]
    assert served.call("DELETE", verzoek_path).status_code == 409
    assert served.call("GET", VIOS).json() == [visible]
    states = sorted(row[1:3] for row in rows(served))
    assert states == [(0, "mirror"), (1, "unmirror")]


# -- work orphaned by a dead process, rows from elsewhere ----------------------------------------
def _insert_directly(kic: ServedKic, data: dict[str, Any], **columns: Any) -> str:
    """A VIO row written by something other than the KIC's API (an import, a crashed worker)."""
    row_uuid = str(uuid_module.uuid4())
    names = ["uuid", "data", "verzoek", "informatieobject", *columns]
    values = [row_uuid, json.dumps(data), data["verzoek"], data["informatieobject"]]
    with sqlite3.connect(db_of(kic)) as conn:
        conn.execute(
            f"INSERT INTO {VIOS} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            values + list(columns.values()),
        )
    return row_uuid


def test_a_row_inserted_by_other_means_is_mirrored(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    document = drc.add_document()
    row_uuid = _insert_directly(
        served, {"verzoek": verzoek["url"].rsplit("/", 1)[1], "informatieobject": document}
    )
    public = f"{served.url}/api/v1"

    without_url = later_round(reconciler_for(served, drc))
    assert "public_base_url" in without_url.failed[row_uuid] and drc.mirrors == {}

    # The failed row backs off; a round after its back-off takes it again.
    reconciler = reconciler_for(served, drc, public_base_url=public)
    result = reconciler.run_once(now=time.time() + LATER + MAX_BACKOFF)
    assert result.mirrored == [row_uuid], result
    [mirror] = drc.mirrors.values()
    assert mirror == {**mirror, "object": verzoek["url"], "informatieobject": document}
    assert rows(served)[0][1:] == (0, None, None)


def test_work_of_a_dead_process_is_taken_over_and_a_live_ones_is_not(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    verzoek_uuid = verzoek["url"].rsplit("/", 1)[1]
    dead = "999999999:1/deadbeef"
    assert not owner_alive(dead)
    alive = new_owner()
    assert owner_alive(alive) and alive.startswith(process_identity())
    now = time.time()
    data = {"verzoek": verzoek_uuid, "mirrorObject": verzoek["url"]}
    orphan = _insert_directly(
        served, {**data, "informatieobject": drc.add_document()},
        sync="mirror", sync_owner=dead, sync_since=now - 10,
    )  # fmt: skip
    busy = _insert_directly(
        served, {**data, "informatieobject": drc.add_document()},
        sync="mirror", sync_owner=alive, sync_since=now - 10,
    )  # fmt: skip

    result = reconciler_for(served, drc).run_once(now=now)

    assert result.mirrored == [orphan] and result.waiting == 1, result
    assert {r[0]: r[2] for r in rows(served)} == {orphan: None, busy: "mirror"}
    # An owner that has not finished within the stale limit never will.
    stale = reconciler_for(served, drc).run_once(now=now + 200)
    assert stale.mirrored == [busy], stale


def test_without_procfs_a_live_owner_is_still_alive(monkeypatch, tmp_path):
    owner = new_owner()
    monkeypatch.setattr(procfs, "PROCFS", tmp_path / "no-procfs")
    assert owner_alive(owner)
    assert not owner_alive("999999999:?/deadbeef")


def test_a_hidden_row_of_a_crashed_delete_is_finished(served, drc):
    vio = served.create(VIOS, pair(served, drc))
    row_uuid = vio["url"].rsplit("/", 1)[1]
    with sqlite3.connect(db_of(served)) as conn:  # as a delete killed after hiding the row
        conn.execute(
            f"UPDATE {VIOS} SET hidden = 1, sync = 'unmirror', sync_owner = ?, sync_since = ? "
            "WHERE uuid = ?",
            ("999999999:1/deadbeef", time.time() - 60, row_uuid),
        )
    result = reconciler_for(served, drc).run_once()
    assert result.removed == [row_uuid], result
    assert rows(served) == [] and drc.mirrors == {}


def test_two_workers_reconcile_each_row_once(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1], "mirrorObject": verzoek["url"]}
    for _ in range(12):
        _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    workers = [reconciler_for(served, drc) for _ in range(2)]
    # Real time here: "an hour later" would make each worker's fresh claims look stale.
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(Reconciler.run_once, workers))
    handled = [uuid for r in results for uuid in r.mirrored]
    assert sorted(handled) == sorted(set(handled)) and len(handled) == 12, (results, rows(served))
    assert len(drc.received("POST", "objectinformatieobjecten")) == 12
    assert len(drc.mirrors) == 12


def test_a_failing_drc_leaves_the_row_for_a_later_round(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1], "mirrorObject": verzoek["url"]}
    row_uuid = _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    drc.faults[("GET", "mirrors")] = Fault(503)
    reconciler = reconciler_for(served, drc)
    first = reconciler.run_once()
    assert "503" in first.failed[row_uuid] and drc.mirrors == {}
    assert reconciler.run_once() == Round()  # backing off: not even looked at
    drc.faults.clear()
    assert later_round(reconciler).mirrored == [row_uuid]


# -- the reconciler's lifetime -------------------------------------------------------------------
def test_the_app_owns_a_running_reconciler_until_stopped(tmp_path):
    app = create_app(make_config(tmp_path, reconcile_interval=0.05))
    runtime = app.runtime
    assert runtime.reconciler is not None and runtime.running
    runtime.stop()
    assert not runtime.running
    off = create_app(make_config(tmp_path, reconcile_interval=0)).runtime
    assert off.reconciler is None and not off.running


def test_the_reconciler_thread_ends_with_its_app(tmp_path):
    app = create_app(make_config(tmp_path, reconcile_interval=0.05))
    thread = app.runtime._thread
    assert thread is not None and thread.is_alive()
    del app
    gc.collect()
    thread.join(timeout=30)
    assert not thread.is_alive()


# -- the database file of an older version -------------------------------------------------------
def test_an_older_database_gets_the_bookkeeping_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            f"""
            CREATE TABLE verzoeken (seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL
                UNIQUE, hidden INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL, klant TEXT,
                bronorganisatie TEXT NOT NULL, identificatie TEXT NOT NULL);
            CREATE TABLE {VIOS} (seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL
                UNIQUE, hidden INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,
                verzoek TEXT NOT NULL REFERENCES verzoeken(uuid) ON DELETE RESTRICT,
                informatieobject TEXT NOT NULL);
            INSERT INTO {VIOS} (uuid, hidden, data, verzoek, informatieobject)
                VALUES ('a', 0, '{{}}', 'v', 'd1'), ('b', 1, '{{}}', 'v', 'd2');
            """
        )
    Store(str(path))
    Store(str(path))  # a second worker opening it changes nothing more
    with sqlite3.connect(path) as conn:
        states = conn.execute(f"SELECT uuid, sync FROM {VIOS} ORDER BY uuid").fetchall()
    # Existing mirrors get checked once; a row hidden by an interrupted delete is finished.
    assert states == [("a", "mirror"), ("b", "unmirror")]


# -- races a delete wins, failing rows --------------------------------------------------------
def _store_mirror(drc: DrcDouble, body: dict[str, str]) -> dict[str, str]:
    """Put a mirror of ``body``'s pair into the DRC double, as a late DRC write would."""
    mirror_uuid = str(uuid_module.uuid4())
    url = f"{drc.drc_root}objectinformatieobjecten/{mirror_uuid}"
    mirror = {"url": url, "object": body["verzoek"], **body, "objectType": "verzoek"}
    drc.mirrors[mirror_uuid] = mirror
    return mirror


def _mark_in_progress(kic: ServedKic, vio_uuid: str) -> None:
    """Make the row look like a create of a live process still waiting for the DRC."""
    with sqlite3.connect(db_of(kic)) as conn:
        conn.execute(
            f"UPDATE {VIOS} SET sync = 'mirror', sync_owner = ?, sync_since = ? WHERE uuid = ?",
            (new_owner(), time.time(), vio_uuid),
        )


def test_a_mirror_stored_after_an_overtaking_delete_is_removed(served, drc):
    body = pair(served, drc)
    vio = served.create(VIOS, body)
    _mark_in_progress(served, vio["url"].rsplit("/", 1)[1])
    assert served.call("DELETE", f"{VIOS}/{uuid_of(vio['url'])}").status_code == 204
    assert drc.mirrors == {}
    # The DRC had answered the create's call-back before the delete hid the row, and stores
    # the mirror only now, after the delete looked.
    late = _store_mirror(drc, body)

    reconciler = reconciler_for(served, drc)
    assert reconciler.run_once() == Round()  # the DRC may still be at work: not yet
    result = later_round(reconciler)

    assert result.orphans == [late["url"]], result
    assert drc.mirrors == {} and rows(served) == []
    assert later_round(reconciler) == Round()  # the pair is done with


def test_a_delete_of_a_settled_row_leaves_nothing_to_compare(served, drc):
    vio = served.create(VIOS, pair(served, drc))
    assert served.call("DELETE", f"{VIOS}/{uuid_of(vio['url'])}").status_code == 204
    drc.received("GET", "mirrors").clear()
    assert later_round(reconciler_for(served, drc)) == Round()
    assert drc.received("GET", "mirrors") == []


def test_a_compared_pair_keeps_a_relation_made_again_and_one_mirror(served, drc):
    body = pair(served, drc)
    vio = served.create(VIOS, body)
    _mark_in_progress(served, vio["url"].rsplit("/", 1)[1])
    assert served.call("DELETE", f"{VIOS}/{uuid_of(vio['url'])}").status_code == 204
    _store_mirror(drc, body)
    # The client links the pair again: the DRC holds the late mirror, so it refuses a second
    # one and the KIC adopts the one listed.
    drc.faults[("POST", "mirrors")] = Fault(400)
    again = served.call("POST", VIOS, json=body)
    assert again.status_code == 201, again.text
    del drc.faults[("POST", "mirrors")]

    result = later_round(reconciler_for(served, drc))

    assert result.orphans == [] and result.failed == {}, result
    assert len(drc.mirrors) == 1 and [r[2] for r in rows(served)] == [None]


def test_a_settled_row_without_mirror_found_by_a_compare_is_mirrored_again(served, drc):
    body = pair(served, drc)
    vio = served.create(VIOS, body)
    row_uuid = vio["url"].rsplit("/", 1)[1]
    with sqlite3.connect(db_of(served)) as conn:
        conn.execute(
            "INSERT INTO vio_touched (mirror_object, informatieobject, due) VALUES (?, ?, ?)",
            (body["verzoek"], body["informatieobject"], time.time()),
        )
    drc.mirrors.clear()  # lost in the DRC

    reconciler = reconciler_for(served, drc)
    first = later_round(reconciler)
    assert first.requeued == [row_uuid] and first.mirrored == [], first
    assert later_round(reconciler).mirrored == [row_uuid]
    assert len(drc.mirrors) == 1


def test_a_create_whose_verzoek_is_deleted_meanwhile_is_a_400(served, drc):
    gone = str(uuid_module.uuid4())  # checked by the request, deleted before the insert
    sync = reconciler_for(served, drc).sync
    with pytest.raises(ValidationFailed) as refused:
        sync.create(
            {"verzoek": gone, "informatieobject": drc.add_document()}, f"{served.url}/api/v1"
        )
    [problem] = refused.value.invalid_params
    assert (problem.name, problem.code) == ("verzoek", "does_not_exist")
    assert rows(served) == [] and drc.mirrors == {}


def test_rows_of_a_dead_drc_back_off_and_never_block_the_others(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1], "mirrorObject": verzoek["url"]}
    dead_root = "http://127.0.0.1:9/documenten/api/v1/enkelvoudiginformatieobjecten/"
    for _ in range(BATCH + 50):  # more than one round's window, all ahead of the good row
        _insert_directly(served, {**data, "informatieobject": f"{dead_root}{uuid_module.uuid4()}"})
    good = _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    reconciler = reconciler_for(served, drc)

    rounds = [reconciler.run_once() for _ in range(3)]

    assert any(good in r.mirrored for r in rounds), rounds
    # One call found the DRC dead; its other rows waited without a call.
    assert sum(len(r.failed) for r in rounds) == 1, [r.failed for r in rounds]
    assert sum(r.postponed for r in rounds) >= BATCH + 49


def test_a_row_that_keeps_failing_waits_longer_each_time(served, drc):
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1], "mirrorObject": verzoek["url"]}
    row_uuid = _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    drc.faults[("GET", "mirrors")] = Fault(503)
    reconciler = reconciler_for(served, drc)
    now = time.time()
    waits = []
    for _ in range(5):
        assert row_uuid in reconciler.run_once(now=now).failed
        with sqlite3.connect(db_of(served)) as conn:
            [(due,)] = conn.execute(f"SELECT sync_due FROM {VIOS}").fetchall()
        waits.append(due - now)
        now = due + reconciler.settle  # its back-off and a settle period have passed
    assert waits == sorted(waits) and waits[0] < waits[-1] <= MAX_BACKOFF, waits


MALFORMED_DATA = [
    pytest.param("{}", id="data-without-links"),
    pytest.param("[]", id="data-not-an-object"),
    pytest.param('"x"', id="data-a-string"),
    pytest.param("{not json", id="data-not-json"),
]


@pytest.mark.parametrize("malformed", MALFORMED_DATA)
def test_a_row_with_malformed_data_never_stops_the_rows_after_it(served, drc, malformed):
    """An import may fill the indexed columns and leave the JSON data without the links (or
    with no object at all). The columns say the relation exists, so the reconciler tries to
    mirror it: data without links is mirrored; data the KIC cannot serve is refused by the
    DRC's call-back and retried later. Either way the rows after it are mirrored."""
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1]}
    bad_document, good_document = drc.add_document(), drc.add_document()
    bad = _insert_directly(served, {**data, "informatieobject": bad_document})
    with sqlite3.connect(db_of(served)) as conn:
        conn.execute(f"UPDATE {VIOS} SET data = ? WHERE uuid = ?", (malformed, bad))
    good = _insert_directly(served, {**data, "informatieobject": good_document})
    reconciler = reconciler_for(served, drc, public_base_url=f"{served.url}/api/v1")

    result = reconciler.run_once()

    mirrored = sorted(m["informatieobject"] for m in drc.mirrors.values())
    if malformed == "{}":
        assert result.mirrored == [bad, good] and result.failed == {}, result
        assert mirrored == sorted([bad_document, good_document])
    else:
        assert result.mirrored == [good] and "inconsistent-relation" in result.failed[bad]
        assert mirrored == [good_document]
        assert rows(served)[0][3] is None  # the failed row's claim is released


@pytest.mark.parametrize("malformed", MALFORMED_DATA)
def test_a_compared_pair_keeps_the_mirror_of_a_row_with_malformed_data(served, drc, malformed):
    body = pair(served, drc)
    vio = served.create(VIOS, body)
    with sqlite3.connect(db_of(served)) as conn:
        conn.execute(f"UPDATE {VIOS} SET data = ? WHERE uuid = ?", (malformed, uuid_of(vio["url"])))
        conn.execute(
            "INSERT INTO vio_touched (mirror_object, informatieobject, due) VALUES (?, ?, 0)",
            (body["verzoek"], body["informatieobject"]),
        )
    reconciler = reconciler_for(served, drc, public_base_url=f"{served.url}/api/v1")

    result = later_round(reconciler)

    assert result.orphans == [] and result.failed == {}, result
    assert len(drc.mirrors) == 1


def test_an_unexpected_error_on_one_row_fails_that_row_only(served, drc, monkeypatch):
    verzoek = served.create("verzoeken", verzoek_body())
    data = {"verzoek": verzoek["url"].rsplit("/", 1)[1], "mirrorObject": verzoek["url"]}
    first = _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    second = _insert_directly(served, {**data, "informatieobject": drc.add_document()})
    reconciler = reconciler_for(served, drc)
    ensure_mirror = reconciler.sync.ensure_mirror

    def surprising(row: dict[str, Any]) -> None:
        if row["uuid"] == first:
            raise KeyError("surprise")
        ensure_mirror(row)

    monkeypatch.setattr(reconciler.sync, "ensure_mirror", surprising)
    result = reconciler.run_once()

    assert result.mirrored == [second] and "surprise" in result.failed[first], result
    assert rows(served)[0][3] is None  # the claim on the failed row is released
