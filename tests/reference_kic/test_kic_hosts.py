"""Which Host headers may build the reference KIC's URLs (urls.base_url, issue 14 item 1).

Without ``public_base_url``: the address the connection reached and the loopback names on
the server's own port, plus the configured ``allowed_hosts``; every other Host is a 400
``host-not-allowed`` that changes nothing. The end-to-end proof that the DRC's call-back
token cannot be steered is in tests/robustness/test_kic_hardening.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from kic_testkit import KIC_CLIENTS, auth_header, klant_body, path_of

from reference_kic import cli
from reference_kic.config import ConfigError, KicConfig, parse_allowed_hosts, split_host
from reference_kic.urls import host_allowed, local_address
from zgw.serving import free_port, serve_in_process


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("kic.example.nl", ("kic.example.nl", None)),
        ("KIC.Example.NL.:8443", ("kic.example.nl", 8443)),
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("[::1]:8000", ("::1", 8000)),
        ("[::1]", ("::1", None)),
        ("kic.example.nl:0", None),
        ("kic.example.nl:70000", None),
        ("kic.example.nl:", None),
        ("user@kic.example.nl", None),
        ("kic.example.nl/path", None),
        ("::1", None),
        ("", None),
        ("kic example", None),
    ],
)
def test_split_host(value: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(value) == parsed


LOCAL = ("127.0.0.1", 8000)


@pytest.mark.parametrize(
    ("host", "port", "local", "allowed", "expected"),
    [
        ("127.0.0.1", 8000, LOCAL, (), True),
        ("localhost", 8000, LOCAL, (), True),
        ("::1", 8000, LOCAL, (), True),
        ("127.0.0.1", 9000, LOCAL, (), False),  # another server on this machine
        ("localhost", 80, LOCAL, (), False),
        ("10.0.0.5", 8000, ("10.0.0.5", 8000), (), True),  # the interface the client reached
        ("10.0.0.6", 8000, ("10.0.0.5", 8000), (), False),
        ("kic.example.nl", 443, LOCAL, (), False),
        ("kic.example.nl", 443, LOCAL, ("kic.example.nl",), True),
        ("kic.example.nl", 8443, LOCAL, ("kic.example.nl:443",), False),
        ("kic.example.nl", 443, LOCAL, ("kic.example.nl:443",), True),
        ("localhost", 1234, None, (), True),  # no known address (a Unix socket)
        ("kic.example.nl", 1234, None, (), False),
    ],
)
def test_host_allowed(
    host: str,
    port: int,
    local: tuple[str, int] | None,
    allowed: tuple[str, ...],
    expected: bool,
) -> None:
    assert host_allowed(host, port, local, allowed) is expected


def test_local_address_without_a_socket_comes_from_server_name_not_from_host() -> None:
    env = {"SERVER_NAME": "0.0.0.0", "SERVER_PORT": "8000", "HTTP_HOST": "evil.example"}
    assert local_address(env) == ("0.0.0.0", 8000)
    assert local_address({"SERVER_NAME": "::ffff:127.0.0.1", "SERVER_PORT": "1"}) == (
        "127.0.0.1",
        1,
    )
    assert local_address({}) is None


def test_a_foreign_host_gets_400_and_changes_nothing(make_api: Any) -> None:
    api = make_api()
    created = api.create("klanten", klant_body())  # TestClient: Host = SERVER_NAME
    evil = {"Host": "evil.example"}
    refused = api.call("POST", "klanten", json=klant_body(), headers=evil)
    assert refused.status_code == 400
    assert refused.json["code"] == "host-not-allowed"
    assert "allowed_hosts" in refused.json["detail"]
    patched = api.call("PATCH", path_of(created["url"]), json={"voornaam": "X"}, headers=evil)
    assert patched.status_code == 400
    assert api.call("GET", path_of(created["url"])).json == created
    assert api.call("GET", "klanten", headers=evil).status_code == 400
    assert api.call("GET", "/api/v1/", headers={"Host": "evil.example:80"}).status_code == 400
    assert api.call("GET", "/api/v1/", headers={"Host": "bad host"}).status_code == 400


def test_with_a_public_base_url_any_host_is_fine(make_api: Any) -> None:
    api = make_api(public_base_url="https://kic.example.nl/api/v1")
    result = api.call("POST", "klanten", json=klant_body(), headers={"Host": "evil.example"})
    assert result.status_code == 201
    assert result.json["url"].startswith("https://kic.example.nl/api/v1/klanten/")


def test_allowed_hosts_by_name_and_by_port(make_api: Any) -> None:
    api = make_api(allowed_hosts=("kic.example.nl", "proxy.example.nl:8443"))
    for host, ok in (
        ("kic.example.nl", True),
        ("kic.example.nl:9999", True),
        ("proxy.example.nl:8443", True),
        ("proxy.example.nl", False),
    ):
        result = api.call("GET", "/api/v1/", headers={"Host": host})
        assert (result.status_code == 200) is ok, (host, result.text)
        if ok:
            assert result.json["klanten"] == f"http://{host}/api/v1/klanten"


def test_served_on_loopback_the_loopback_names_on_its_own_port_work(kic: Any) -> None:
    port = int(kic.url.rsplit(":", 1)[1])
    headers = auth_header()
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        result = httpx.get(f"{kic.url}/api/v1/klanten", headers={**headers, "Host": host})
        assert result.status_code == 200, (host, result.text)
    other = httpx.get(f"{kic.url}/api/v1/", headers={"Host": f"127.0.0.1:{port + 1}"})
    assert other.status_code == 400 and other.json()["code"] == "host-not-allowed"


def test_allowed_hosts_in_the_config_file_and_the_environment(tmp_path: Any) -> None:
    config_file = tmp_path / "kic.yaml"
    config_file.write_text("allowed_hosts: [kic.example.nl, '[::1]:8000']\n")
    config = KicConfig.from_env(
        {
            "KIC_DB": str(tmp_path / "kic.db"),
            "KIC_CONFIG": str(config_file),
            "KIC_ALLOWED_HOSTS": "kic:8000, Other.Example",
        }
    )
    assert config.allowed_hosts == ("kic.example.nl", "[::1]:8000", "kic:8000", "other.example")
    with pytest.raises(ConfigError, match=r"KIC_ALLOWED_HOSTS\[0\]: 'https://x' is not a host"):
        KicConfig.from_env({"KIC_DB": "x.db", "KIC_ALLOWED_HOSTS": "https://x"})
    with pytest.raises(ConfigError, match=r"allowed_hosts: expected a list"):
        parse_allowed_hosts({"a": 1}, "allowed_hosts")
    with pytest.raises(ConfigError, match=r"allowed_hosts\[0\]"):
        KicConfig(db_path="x.db", allowed_hosts=("a b",))


def test_serve_allowed_host_lets_a_service_name_build_the_urls(tmp_path: Path) -> None:
    """``reference-kic serve --allowed-host kic --allowed-host proxy.example:8443``, as in a
    compose file where clients reach the KIC by its service name: those Hosts build the URLs
    (added to the config file's ``allowed_hosts``), any other is a 400 ``host-not-allowed``."""
    client = KIC_CLIENTS["alles"]
    config = tmp_path / "kic.json"
    config.write_text(
        json.dumps(
            {
                "clients": {client.client_id: {"secret": client.secret, "scopes": "all"}},
                "allowed_hosts": ["from-the-file.example"],
            }
        )
    )

    def command(port: int) -> list[str]:
        return [
            str(Path(sys.executable).parent / "reference-kic"),
            *("serve", "--port", str(port), "--db", str(tmp_path / "kic.db")),
            *("--workers", "1", "--config", str(config)),
            *("--allowed-host", "kic", "--allowed-host", "Proxy.Example:8443"),
        ]

    with serve_in_process("kic", command, tmp_path, ready_path="/api/v1/") as kic:
        port = int(kic.url.rsplit(":", 1)[1])

        def post(host: str) -> httpx.Response:
            headers = {**auth_header(), "Host": host}
            return httpx.post(f"{kic.url}/api/v1/klanten", json=klant_body(), headers=headers)

        for host in (f"kic:{port}", "kic", "proxy.example:8443", "from-the-file.example"):
            created = post(host)
            assert created.status_code == 201, (host, created.text)
            assert created.json()["url"].startswith(f"http://{host}/api/v1/klanten/")
        for host in ("other.example", "proxy.example:9443", f"kic.example:{port}"):
            refused = post(host)
            assert refused.status_code == 400, (host, refused.text)
            assert refused.json()["code"] == "host-not-allowed"
        listed = httpx.get(f"{kic.url}/api/v1/klanten", headers=auth_header())
        assert len(listed.json()) == 4  # the refused ones changed nothing


def test_serve_refuses_a_bad_allowed_host_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--port", str(free_port()), "--db", str(tmp_path / "k.db")]
    assert cli.main([*argv, "--allowed-host", "http://kic:8000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reference-kic: --allowed-host 'http://kic:8000': not a host")
    assert "Traceback" not in err
