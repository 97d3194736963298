"""Configuration from files and the environment, and the CLI's handling of bad input."""

from __future__ import annotations

import json

import pytest

from reference_kic import cli
from reference_kic.config import ALL_SCOPES, ConfigError, DrcCredential, KicConfig


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_from_file_reads_clients_credentials_and_defects(tmp_path):
    path = _write(
        tmp_path,
        "kic.yaml",
        """
db: /tmp/kic.db
public_base_url: http://kic.example/api/v1/
clients:
  alles: {secret: s1, scopes: all}
  lezer: {secret: s2, scopes: [klanten.lezen]}
drc:
  - {api_root: http://drc.example/, client_id: kic, secret: s3}
  - {api_root: http://drc.example/documenten/, client_id: kic2, secret: s4}
defects: [etag-missing]
http_timeout: 3
""",
    )
    config = KicConfig.from_file(path)
    assert config.db_path == "/tmp/kic.db"
    assert config.public_base_url == "http://kic.example/api/v1"
    assert config.clients["alles"].scopes == ALL_SCOPES
    assert config.clients["lezer"].scopes == frozenset({"klanten.lezen"})
    assert config.defects == frozenset({"etag-missing"})
    assert config.http_timeout == 3.0
    # the longest matching api_root wins; no match means no credential
    assert config.credential_for("http://drc.example/documenten/x").client_id == "kic2"
    assert config.credential_for("http://drc.example/other").client_id == "kic"
    assert config.credential_for("http://elders.example/") is None


def test_from_env_with_a_json_config(tmp_path):
    path = _write(
        tmp_path, "kic.json", json.dumps({"clients": {"a": {"secret": "s", "scopes": "all"}}})
    )
    config = KicConfig.from_env(
        {
            "KIC_DB": str(tmp_path / "kic.db"),
            "KIC_CONFIG": path,
            "KIC_PUBLIC_BASE_URL": "https://kic.example/api/v1",
            "KIC_DEFECTS": "mirror-skipped, auth-not-checked",
        }
    )
    assert config.clients["a"].secret == "s"
    assert config.defects == frozenset({"mirror-skipped", "auth-not-checked"})
    assert config.drc_credentials == []
    assert config.reconcile_interval == 2.0  # on unless switched off


def test_reconcile_interval_from_file_and_env(tmp_path):
    path = _write(tmp_path, "kic.yaml", "db: x.db\nreconcile_interval: 0")
    assert KicConfig.from_file(path).reconcile_interval == 0
    env = {"KIC_DB": "x.db", "KIC_RECONCILE_INTERVAL": "0.5"}
    assert KicConfig.from_env(env).reconcile_interval == 0.5
    with pytest.raises(ConfigError, match="KIC_RECONCILE_INTERVAL"):
        KicConfig.from_env({"KIC_DB": "x.db", "KIC_RECONCILE_INTERVAL": "later"})
    assert DrcCredential("r", "c", "s").api_root == "r"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("clients: [1]", "clients"),
        ("clients: {a: {scopes: all}}", "clients.a.secret"),
        ("clients: {a: {secret: s, scopes: [klanten.alles]}}", "clients.a.scopes"),
        ("drc: [{api_root: x, client_id: c}]", "drc[0].secret"),
        ("drc: {a: 1}", "drc"),
        ("http_timeout: -1", "http_timeout"),
        ("bogus: 1", "bogus"),
        ("- a list", "top level"),
        ("clients: {a: [unclosed", "not valid YAML"),
        ("public_base_url: 5", "public_base_url"),
        ("reconcile_interval: -2", "reconcile_interval"),
        ("reconcile_interval: soon", "reconcile_interval"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, fragment):
    path = _write(
        tmp_path, "kic.yaml", "db: x.db\n" + text if "top level" not in fragment else text
    )
    with pytest.raises(ConfigError) as raised:
        KicConfig.from_file(path)
    assert fragment in str(raised.value)


def test_missing_file_and_missing_db_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        KicConfig.from_file(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="KIC_DB"):
        KicConfig.from_env({})


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "0", "--db", "x.db"], "--port"),
        (["serve", "--port", "8000", "--db", "x.db", "--workers", "0"], "--workers"),
        (["serve", "--port", "8000", "--db", "x.db", "--defect", "nope"], "unknown defect"),
        (["serve", "--port", "8000", "--db", "x.db", "--config", "missing.yaml"], "cannot read"),
        (["serve", "--port", "8000", "--db", "/nonexistent-dir/x/kic.db"], "cannot use database"),
    ],
)
def test_cli_reports_bad_input_without_a_traceback(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_requires_port_and_db(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["serve"])
    assert raised.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_cli_config_combines_file_flags_and_defects(tmp_path):
    path = _write(
        tmp_path, "kic.yaml", "clients: {a: {secret: s, scopes: all}}\ndefects: [etag-missing]"
    )
    argv = ["serve", "--port", "8000", "--db", "k.db", "--config", path]
    argv += ["--defect", "mirror-skipped", "--public-base-url", "http://kic.example/api/v1/"]
    args = cli.build_parser().parse_args(argv)
    config = cli.load_config(args)
    assert config.db_path == "k.db" and config.public_base_url == "http://kic.example/api/v1"
    assert config.defects == frozenset({"etag-missing", "mirror-skipped"})
    assert set(config.clients) == {"a"}
