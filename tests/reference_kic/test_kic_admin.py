"""``reference-kic admin link|unlink``: relations made other than through the API are mirrored
too (kic-001), along the same path as the API's (the strict DRC double calls the KIC back)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kic_testkit import DRC_CLIENT_ID, DRC_SECRET, DrcDouble, Fault, ServedKic, verzoek_body

from reference_kic.cli import main

VIOS = "verzoekinformatieobjecten"


@pytest.fixture
def config_file(tmp_path: Path, drc: DrcDouble) -> Path:
    path = tmp_path / "admin-kic.json"
    drc_entry = {"api_root": drc.url + "/", "client_id": DRC_CLIENT_ID, "secret": DRC_SECRET}
    path.write_text(json.dumps({"drc": [drc_entry]}))
    return path


def admin(kic: ServedKic, config: Path, action: str, verzoek: str, document: str) -> int:
    where = ["--db", kic.db_path, "--config", str(config)]
    return main(["admin", action, *where, "--verzoek", verzoek, "--informatieobject", document])


def test_link_and_unlink_from_the_shell_mirror_like_the_api(kic, drc, config_file, capsys):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    document = drc.add_document()

    assert admin(kic, config_file, "link", verzoek, document) == 0
    [relation] = kic.call("GET", VIOS).json()
    assert (relation["verzoek"], relation["informatieobject"]) == (verzoek, document)
    assert f"linked: {relation['url']}" in capsys.readouterr().out
    [mirror] = drc.mirrors.values()
    assert (mirror["object"], mirror["informatieobject"]) == (verzoek, document)
    assert mirror["objectType"] == "verzoek"
    # The strict DRC asked the running KIC and saw the relation the command had stored.
    assert [status for _url, status, _body in drc.callbacks] == [200]

    assert admin(kic, config_file, "unlink", verzoek, document) == 0
    assert kic.call("GET", VIOS).json() == [] and drc.mirrors == {}


def test_a_refused_link_keeps_nothing_and_says_why(kic, drc, config_file, capsys):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    drc.faults[("POST", "mirrors")] = Fault(400)

    assert admin(kic, config_file, "link", verzoek, drc.add_document()) == 1

    assert "refused" in capsys.readouterr().err
    assert kic.call("GET", VIOS).json() == [] and drc.mirrors == {}


def test_unlink_of_an_unknown_relation_and_a_bad_verzoek_url(kic, drc, config_file, capsys):
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    assert admin(kic, config_file, "unlink", verzoek, drc.add_document()) == 1
    assert "no such relation" in capsys.readouterr().err
    assert admin(kic, config_file, "link", "https://elders.example/x", drc.add_document()) == 2
    assert "not a verzoek URL" in capsys.readouterr().err
