"""Answer profiles: ``default`` answers by the letter of the contract, ``vng`` like the VNG
reference implementation where its documented conventions differ (reference_kic/profiles.py)."""

from __future__ import annotations

import pytest
from kic_testkit import Api, make_config

from reference_kic import cli
from reference_kic.app import create_app
from reference_kic.config import ConfigError, KicConfig
from reference_kic.profiles import DEFAULT, VNG

RSIN = "000000000"
MEDEWERKER = "https://medewerkers.example.com/m/1"


@pytest.fixture
def default(tmp_path) -> Api:
    return Api(create_app(make_config(tmp_path, reconcile_interval=0)))


@pytest.fixture
def vng(tmp_path) -> Api:
    return Api(create_app(make_config(tmp_path, reconcile_interval=0, profile="vng")))


def _verzoek(api: Api) -> str:
    return api.create("verzoeken", {"bronorganisatie": RSIN, "status": "ontvangen"})["url"]


def test_the_default_profile_answers_by_the_letter_of_the_contract(default: Api) -> None:
    refused = default.call("POST", "verzoeken", json={"bronorganisatie": RSIN})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json["detail"] != ""
    contactmoment = default.create(
        "contactmomenten", {"bronorganisatie": RSIN, "medewerker": MEDEWERKER}
    )
    assert "initiatiefnemer" not in contactmoment
    product = default.create(
        "verzoekproducten", {"verzoek": _verzoek(default), "product": "https://p.example/1"}
    )
    assert "productIdentificatie" not in product
    assert "ETag" in default.call("GET", contactmoment["url"].split("/api/v1/")[1]).headers
    malformed = default.call("POST", "klanten", body='{"subject": ', headers=_json())
    assert "invalidParams" in malformed.json
    assert default.call("GET", "klanten/a.b").headers["content-type"] == "application/problem+json"


def test_vng_answers_validation_errors_as_the_reference_does(vng: Api) -> None:
    refused = vng.call("POST", "verzoeken", json={"bronorganisatie": RSIN})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/json"
    assert refused.json["detail"] == ""
    assert refused.json["invalidParams"] == [
        {"name": "status", "code": "required", "reason": "Dit veld is vereist."}
    ]
    malformed = vng.call("POST", "klanten", body='{"subject": ', headers=_json())
    assert malformed.status_code == 400
    assert malformed.json["code"] == "parse_error" and "invalidParams" not in malformed.json


def test_vng_answers_unset_fields_blank_and_no_etag(vng: Api) -> None:
    contactmoment = vng.create(
        "contactmomenten", {"bronorganisatie": RSIN, "medewerker": MEDEWERKER}
    )
    assert contactmoment["initiatiefnemer"] == ""
    keys = list(contactmoment)
    assert keys.index("onderwerpLinks") < keys.index("initiatiefnemer") < keys.index("medewerker")
    verzoek = _verzoek(vng)
    by_url = vng.create("verzoekproducten", {"verzoek": verzoek, "product": "https://p.example/1"})
    by_code = vng.create(
        "verzoekproducten", {"verzoek": verzoek, "productIdentificatie": {"code": "A"}}
    )
    assert by_url["productIdentificatie"] == {"code": ""}
    assert by_code["productIdentificatie"] == {"code": "A"}
    read = vng.call(
        "GET", contactmoment["url"].split("/api/v1/")[1], headers={"If-None-Match": "*"}
    )
    assert read.status_code == 200 and "ETag" not in read.headers


def test_vng_words_framework_errors_in_dutch(vng: Api) -> None:
    not_found = vng.call("GET", "klanten/abc")
    assert not_found.status_code == 404 and not_found.json["detail"] == "Niet gevonden."
    assert not_found.headers["API-version"] == "1.0.0-rc1"
    method = vng.call("PUT", "verzoekproducten/abc", json={})
    assert method.status_code == 405
    assert method.json["title"] == 'Methode "{method}" niet toegestaan.'
    assert method.json["detail"] == 'Methode "PUT" niet toegestaan.'
    media = vng.call("POST", "klanten", body="a=b", headers={"Content-Type": "text/plain"})
    assert media.status_code == 415
    assert media.json["detail"] == 'Ongeldige media type "text/plain" in aanvraag.'
    forbidden = vng.call("GET", "klanten", client="")
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == "application/json"


@pytest.mark.parametrize("path", ["klanten/a.b", "klanten/", "verzoeken/x.y/extra"])
def test_vng_answers_paths_outside_the_routes_with_the_frameworks_page(vng: Api, path) -> None:
    for client in ("alles", ""):  # the router answers before authorization is looked at
        page = vng.call("GET", path, client=client)
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "API-version" not in page.headers


def test_vng_keeps_server_errors_a_fout(tmp_path) -> None:
    config = make_config(
        tmp_path, reconcile_interval=0, profile="vng", defects=frozenset({"500-on-bad-input"})
    )
    api = Api(create_app(config))
    crashed = api.call("POST", "klanten", json={"subject": "https://p.example/1"})
    assert crashed.status_code == 500
    assert crashed.headers["content-type"] == "application/json"
    assert crashed.json["code"] == "error" and crashed.headers["API-version"] == "1.0.0-rc1"


def test_the_profile_comes_from_code_files_the_environment_and_the_cli(tmp_path) -> None:
    assert KicConfig(db_path="kic.db").profile is DEFAULT
    assert KicConfig(db_path="kic.db", profile="vng").profile is VNG
    assert KicConfig.from_mapping({"db": "kic.db", "profile": "vng"}).profile is VNG
    assert KicConfig.from_env({"KIC_DB": "kic.db", "KIC_PROFILE": "vng"}).profile is VNG
    args = cli.build_parser().parse_args(
        ["serve", "--port", "8000", "--db", str(tmp_path / "kic.db"), "--profile", "vng"]
    )
    assert cli.load_config(args).profile is VNG


def test_an_unknown_profile_is_refused_with_the_valid_names(capsys) -> None:
    with pytest.raises(
        ConfigError, match="KIC_PROFILE: unknown profile 'django'; valid: default, vng"
    ):
        KicConfig.from_env({"KIC_DB": "kic.db", "KIC_PROFILE": "django"})
    with pytest.raises(ConfigError, match="config: profile: unknown profile"):
        KicConfig.from_mapping({"db": "kic.db", "profile": "django"})
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--port", "8000", "--db", "kic.db", "--profile", "django"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'django'" in capsys.readouterr().err


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}
