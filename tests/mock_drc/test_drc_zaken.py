"""The Zaken API subset: zaak read and the zaakcontactmomenten / zaakverzoeken lists."""

from __future__ import annotations

import uuid

import httpx
import pytest

from mock_drc.fields import FieldErrors
from mock_drc.testing import MockDrcHandle

CONTACTMOMENT = "https://kic.example.com/api/v1/contactmomenten/" + str(uuid.uuid4())
VERZOEK = "https://kic.example.com/api/v1/verzoeken/" + str(uuid.uuid4())


def test_zaak_read(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    zaak = mock_drc.state.create_zaak(omschrijving="Bezwaar")
    assert zaak["url"] == f"{mock_drc.zaken_root}zaken/{zaak['uuid']}"
    response = http.get(zaak["url"], headers={"Accept-Crs": "EPSG:4326"})
    assert response.status_code == 200
    assert response.json() == zaak and zaak["omschrijving"] == "Bezwaar"
    assert response.headers["Content-Crs"] == "EPSG:4326"
    for field in ("bronorganisatie", "zaaktype", "verantwoordelijkeOrganisatie", "startdatum"):
        assert zaak[field]
    assert http.get(f"{mock_drc.zaken_root}zaken/{uuid.uuid4()}").status_code == 404


def test_link_lists_filter_exactly(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    zaak = mock_drc.state.create_zaak()["url"]
    other = mock_drc.state.create_zaak()["url"]
    by_contactmoment = mock_drc.state.link_zaak(zaak, contactmoment=CONTACTMOMENT)
    by_verzoek = mock_drc.state.link_zaak(zaak, verzoek=VERZOEK)
    root = mock_drc.zaken_root
    assert http.get(
        root + "zaakcontactmomenten", params={"zaak": zaak, "contactmoment": CONTACTMOMENT}
    ).json() == [by_contactmoment]
    assert (
        http.get(
            root + "zaakcontactmomenten", params={"zaak": other, "contactmoment": CONTACTMOMENT}
        ).json()
        == []
    )
    assert http.get(root + "zaakverzoeken", params={"zaak": zaak, "verzoek": VERZOEK}).json() == [
        by_verzoek
    ]
    assert http.get(root + "zaakverzoeken", params={"zaak": zaak}).json() == [by_verzoek]
    assert http.get(root + "zaakverzoeken", params={"verzoek": CONTACTMOMENT}).json() == []
    unknown = http.get(root + "zaakverzoeken", params={"contactmoment": CONTACTMOMENT})
    assert unknown.status_code == 400
    assert unknown.json()["invalidParams"][0]["code"] == "unknown-parameters"


def test_a_link_names_exactly_one_other_side(mock_drc: MockDrcHandle) -> None:
    zaak = mock_drc.state.create_zaak()["url"]
    with pytest.raises(FieldErrors):
        mock_drc.state.link_zaak(zaak)
    with pytest.raises(FieldErrors):
        mock_drc.state.link_zaak(zaak, contactmoment=CONTACTMOMENT, verzoek=VERZOEK)
    with pytest.raises(FieldErrors, match="zaak"):
        mock_drc.state.link_zaak("not a url", verzoek=VERZOEK)


def test_seeded_zaken_reject_unknown_fields(mock_drc: MockDrcHandle) -> None:
    with pytest.raises(FieldErrors, match="kleur"):
        mock_drc.state.create_zaak(kleur="rood")
