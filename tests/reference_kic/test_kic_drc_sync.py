"""kic-001: verzoekinformatieobjecten are mirrored in the DRC, against a DRC that calls back."""

from __future__ import annotations

from kic_testkit import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    DrcDouble,
    Fault,
    ServedKic,
    uuid_of,
    verzoek_body,
)

from zgw.jwt import Client, verify_authorization


def _verzoek_and_doc(kic: ServedKic, drc: DrcDouble) -> tuple[str, str]:
    return kic.create("verzoeken", verzoek_body())["url"], drc.add_document()


def test_create_commits_then_mirrors_and_the_callback_sees_the_row(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    vio = kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    assert vio["verzoek"] == verzoek and vio["informatieobject"] == doc
    [post] = drc.received("POST", "objectinformatieobjecten")
    assert post.json == {"informatieobject": doc, "object": verzoek, "objectType": "verzoek"}
    # the DRC's call-back found the relation while the KIC was still answering the POST
    assert drc.callbacks == [(verzoek, 200, [vio])]
    assert [m["object"] for m in drc.mirrors.values()] == [verzoek]


def test_outgoing_calls_carry_a_jwt_for_the_matching_credential(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    clients = {DRC_CLIENT_ID: Client(DRC_CLIENT_ID, DRC_SECRET)}
    for received in drc.journal:
        assert verify_authorization(received.authorization, clients).client_id == DRC_CLIENT_ID


def test_no_matching_credential_sends_no_authorization(make_served_kic, drc):
    kic = make_served_kic(drc_credentials=[])
    verzoek, doc = _verzoek_and_doc(kic, drc)
    kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    assert drc.journal and all(r.authorization is None for r in drc.journal)


def test_drc_refusing_the_mirror_leaves_nothing_behind(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    drc.faults[("POST", "mirrors")] = Fault(500)
    response = kic.call(
        "POST", "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": doc}
    )
    assert response.status_code == 400
    [problem] = response.json()["invalidParams"]
    assert (problem["name"], problem["code"]) == ("nonFieldErrors", "invalid")
    assert "500" in problem["reason"]
    assert kic.call("GET", "verzoekinformatieobjecten").json() == []
    assert drc.mirrors == {}


def test_unreachable_drc_on_create_is_a_400_not_a_500(make_served_kic, drc):
    # Not shorter: on a loaded machine the set-up calls must not time out too.
    kic = make_served_kic(http_timeout=2.0)
    verzoek, doc = _verzoek_and_doc(kic, drc)
    drc.faults[("POST", "mirrors")] = Fault(0)  # the DRC hangs: the KIC times out
    response = kic.call(
        "POST", "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": doc}
    )
    assert response.status_code == 400
    assert "unreachable" in response.json()["invalidParams"][0]["reason"]
    drc.release.set()
    assert kic.call("GET", "verzoekinformatieobjecten").json() == []


def test_document_url_is_validated_before_anything_is_written(kic, drc):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    missing = f"{drc.drc_root}enkelvoudiginformatieobjecten/00000000-0000-4000-8000-000000000000"
    response = kic.call(
        "POST", "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": missing}
    )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0] == {
        "name": "informatieobject",
        "code": "bad-url",
        "reason": response.json()["invalidParams"][0]["reason"],
    }
    not_a_document = f"{drc.url}/zaken/api/v1/zaken/{uuid_of(missing)}"  # JSON, but no titel
    response = kic.call(
        "POST",
        "verzoekinformatieobjecten",
        json={"verzoek": verzoek, "informatieobject": not_a_document},
    )
    assert response.json()["invalidParams"][0]["code"] == "invalid-resource"
    assert drc.received("POST", "objectinformatieobjecten") == []


def test_unreachable_document_host_is_bad_url(kic, drc):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    response = kic.call(
        "POST",
        "verzoekinformatieobjecten",
        json={
            "verzoek": verzoek,
            "informatieobject": "http://127.0.0.1:9/documenten/api/v1/enkelvoudiginformatieobjecten/x",
        },
    )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["code"] == "bad-url"


def test_duplicate_pair_is_unique_error_and_mirrors_once(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    body = {"verzoek": verzoek, "informatieobject": doc}
    kic.create("verzoekinformatieobjecten", body)
    response = kic.call("POST", "verzoekinformatieobjecten", json=body)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["code"] == "unique"
    assert len(drc.received("POST", "objectinformatieobjecten")) == 1


def test_delete_hides_the_row_then_deletes_the_matching_mirror(kic, drc):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    doc_a, doc_b = drc.add_document(), drc.add_document()
    kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc_a})
    vio_b = kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc_b})
    response = kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio_b['url'])}")
    assert response.status_code == 204
    # the strict DRC's delete call-back did not see the row any more
    assert drc.callbacks[-1] == (verzoek, 200, [])
    [listing] = drc.received("GET", "objectinformatieobjecten")
    assert listing.params == {"object": verzoek, "informatieobject": doc_b}
    assert [m["informatieobject"] for m in drc.mirrors.values()] == [doc_a]
    assert kic.call("GET", f"verzoekinformatieobjecten/{uuid_of(vio_b['url'])}").status_code == 404


def test_drc_refusing_the_delete_keeps_the_relation_visible(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    vio = kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    drc.faults[("DELETE", "mirror")] = Fault(500)
    response = kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "conflict" and "500" in problem["detail"]
    assert kic.call("GET", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}").json() == vio
    assert len(drc.mirrors) == 1


def test_drc_list_failure_on_delete_keeps_the_relation(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    vio = kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    drc.faults[("GET", "mirrors")] = Fault(403)
    response = kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}")
    assert response.status_code == 409
    assert kic.call("GET", "verzoekinformatieobjecten").json() == [vio]


def test_mirror_already_gone_counts_as_deleted(kic, drc):
    verzoek, doc = _verzoek_and_doc(kic, drc)
    vio = kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    drc.mirrors.clear()
    assert kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}").status_code == 204
    assert kic.call("GET", "verzoekinformatieobjecten").json() == []


def test_verzoek_delete_cascades_through_the_mirror_deletes(kic, drc):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    for _ in range(2):
        kic.create(
            "verzoekinformatieobjecten",
            {"verzoek": verzoek, "informatieobject": drc.add_document()},
        )
    assert kic.call("DELETE", f"verzoeken/{uuid_of(verzoek)}").status_code == 204
    assert drc.mirrors == {}
    assert len(drc.received("DELETE", "objectinformatieobjecten/")) == 2
    assert kic.call("GET", "verzoekinformatieobjecten").json() == []


def test_klant_delete_cascades_to_verzoeken_and_their_mirrors(kic, drc):
    klant = kic.create("klanten", {"subjectType": None, "subject": "https://p.example/1"})["url"]
    verzoek = kic.create("verzoeken", verzoek_body(klant=klant))["url"]
    kic.create(
        "verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": drc.add_document()}
    )
    assert kic.call("DELETE", f"klanten/{uuid_of(klant)}").status_code == 204
    assert drc.mirrors == {}
    assert kic.call("GET", f"verzoeken/{uuid_of(verzoek)}").status_code == 404


def test_failing_mirror_delete_aborts_the_whole_cascade(kic, drc):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    vios = [
        kic.create(
            "verzoekinformatieobjecten",
            {"verzoek": verzoek, "informatieobject": drc.add_document()},
        )
        for _ in range(2)
    ]
    drc.faults[("DELETE", "mirror")] = Fault(500, skip=1)  # first delete works, second fails
    response = kic.call("DELETE", f"verzoeken/{uuid_of(verzoek)}")
    assert response.status_code == 409
    assert kic.call("GET", f"verzoeken/{uuid_of(verzoek)}").status_code == 200
    listed = kic.call("GET", "verzoekinformatieobjecten").json()
    assert sorted(v["url"] for v in listed) == sorted(v["url"] for v in vios)
    # the mirror removed before the failure was put back, so both sides agree again
    assert sorted(m["informatieobject"] for m in drc.mirrors.values()) == sorted(
        v["informatieobject"] for v in vios
    )


def test_outgoing_object_url_uses_the_public_base_url(make_served_kic, drc):
    kic = make_served_kic()
    verzoek, doc = _verzoek_and_doc(kic, drc)
    kic.create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": doc})
    [post] = drc.received("POST", "objectinformatieobjecten")
    assert post.json["object"].startswith(kic.url + "/api/v1/verzoeken/")
