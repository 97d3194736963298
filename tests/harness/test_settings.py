"""Where option values come from (harness.settings): command line > KIC_CONFORMANCE_* >
kic-conformance.toml > default, with ${VAR} expansion, paths relative to the file, and every
bad value named with its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.settings import OPTIONS, SettingsError, require, resolve, second_drc_problem

ENV = {"KIC_SECRET": "from-the-variable"}


def write(folder: Path, text: str) -> Path:
    path = folder / "kic-conformance.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_line_wins_over_the_environment_over_the_file_over_the_default(
    tmp_path: Path,
) -> None:
    config = write(tmp_path, 'target = "http://file/api/v1"\nclient-id = "file"\ntimeout = 7\n')
    environ = {"KIC_CONFORMANCE_CLIENT_ID": "env", "KIC_CONFORMANCE_TARGET": "http://env/api/v1"}
    values = resolve({"target": "http://cli/api/v1"}, "run", environ=environ, config_path=config)
    assert values["target"] == "http://cli/api/v1"
    assert values["client_id"] == "env"
    assert values["timeout"] == 7.0
    assert values["workers"] == 4  # the default
    assert values["config_file"] == str(config)


def test_variables_are_expanded_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        'secret = "${KIC_SECRET}"\njunit = "out/report.xml"\ntag = ["kic-001", "auth"]\n'
        "drc-lenient = true\n",
    )
    values = resolve({}, "run", environ=ENV, config_path=config)
    assert values["secret"] == "from-the-variable"
    assert values["junit"] == tmp_path / "out" / "report.xml"
    assert values["tag"] == ["kic-001", "auth"]
    assert values["drc_lenient"] is True


def test_the_file_in_the_current_folder_is_found(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, 'client-id = "here"\n')
    monkeypatch.chdir(tmp_path)
    assert resolve({}, "run", environ={})["client_id"] == "here"
    monkeypatch.chdir(tmp_path.parent)
    assert resolve({}, "run", environ={})["client_id"] is None


def test_environment_lists_and_switches(tmp_path: Path) -> None:
    environ = {
        "KIC_CONFORMANCE_TAG": "kic-001, auth",
        "KIC_CONFORMANCE_INSECURE": "yes",
        "KIC_CONFORMANCE_DRC_CALLBACK_CLIENT": "drc:s3cret",
        "KIC_CONFORMANCE_FUZZ_EXAMPLES": "50",
    }
    values = resolve({}, "run", environ=environ)
    assert values["tag"] == ["kic-001", "auth"]
    assert values["insecure"] is True
    assert values["drc_callback_client"] == ("drc", "s3cret")
    assert values["fuzz_examples"] == 50


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ('secrett = "x"\n', {}, "unknown key 'secrett'"),
        ('secret = "${NOPE}"\n', {}, "secret: the environment variable NOPE is not set"),
        ("timeout = -1\n", {}, "timeout: expected a positive number"),
        ('insecure = "yes"\n', {}, "insecure: expected true or false"),
        ('target = "kic.example"\n', {}, "target: expected an http(s) URL"),
        ("target = [\n", {}, "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(
    tmp_path: Path, text: str, environ: dict, message: str
) -> None:
    config = write(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        resolve({}, "run", environ=environ, config_path=config)
    assert str(config) in str(caught.value) and message in str(caught.value)


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="KIC_CONFORMANCE_WORKERS: expected a whole number"):
        resolve({}, "run", environ={"KIC_CONFORMANCE_WORKERS": "many"})
    with pytest.raises(SettingsError, match=r"KIC_CONFORMANCE_CONFIG .*no such file"):
        resolve({}, "run", environ={"KIC_CONFORMANCE_CONFIG": "/nonexistent.toml"})


@pytest.mark.parametrize(
    ("value", "what"),
    [("kic-very-secret", "no ':'"), (":very-secret", "no client id"), ("kic:", "no secret")],
)
def test_a_bad_credential_is_described_not_echoed(value: str, what: str) -> None:
    """The value may be a secret typed without its client id: it must not reach a CI log."""
    with pytest.raises(SettingsError) as caught:
        resolve({}, "run", environ={"KIC_CONFORMANCE_DRC_CLIENT": value})
    message = str(caught.value)
    assert "KIC_CONFORMANCE_DRC_CLIENT" in message and what in message
    assert "very-secret" not in message


def test_missing_options_are_named_for_the_front_end() -> None:
    with pytest.raises(SettingsError, match=r"missing --secret .*KIC_CONFORMANCE_SECRET"):
        require({"target": "http://x", "client_id": "c"}, ("target", "client-id", "secret"))
    with pytest.raises(SettingsError, match="missing --kic-url, --kic-secret"):
        require({"client_id": "c"}, ("target", "client-id", "secret"), front_end="pytest")


def test_no_two_options_share_an_environment_variable() -> None:
    names = [option.env for option in OPTIONS]
    assert len(names) == len(set(names))


FIRST_STARTED = {"drc_host": "127.0.0.1", "drc_port": 8500}
FIRST_APART = {"drc_url": "http://drc.test:8000"}


@pytest.mark.parametrize(
    ("values", "front_end", "problem"),
    [
        ({**FIRST_STARTED, "second_drc_port": 0}, "cli", None),
        ({**FIRST_APART, "second_drc_url": "http://drc2.test:8000"}, "cli", None),
        ({**FIRST_STARTED, "second_drc_url": "http://drc2.test:8000"}, "cli", None),
        ({}, "cli", None),
        (
            {**FIRST_STARTED, "second_drc_port": 0, "second_drc_url": "http://drc2.test"},
            "cli",
            "give either --second-drc-url or --second-drc-port, not both",
        ),
        ({**FIRST_APART, "second_drc_port": 0}, "pytest", "give --kic-drc-host/--kic-drc-port"),
        ({"second_drc_url": "http://drc2.test"}, "cli", "needs the first mock DRC too"),
        ({**FIRST_STARTED, "second_drc_port": 8500}, "cli", "is the first DRC's port"),
        (
            {**FIRST_STARTED, "second_drc_public_url": "http://kic-sees-it.test"},
            "cli",
            "--second-drc-public-url goes with --second-drc-port",
        ),
        ({**FIRST_APART, "second_drc_url": "http://drc.test:8000/"}, "cli", "names the DRC of"),
    ],
)
def test_the_second_drc_options_go_with_the_first(values, front_end, problem) -> None:
    found = second_drc_problem(values, front_end)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        (
            "run",
            'defect = ["mirror-skipped"]\n',
            "'defect' is not an option of kic-conformance run",
        ),
        ("pytest", 'html = "r.html"\n', "'html' is not an option of the pytest plugin"),
        ("pytest", 'json = "r.json"\n', "'json' is not an option of the pytest plugin"),
        ("pytest", "max-failures = 3\n", "use pytest's --maxfail instead"),
        ("pytest", 'junit = "r.xml"\n', "use pytest's --junitxml instead"),
        ("pytest", "workers = 2\n", "use pytest-xdist's -n instead"),
        ("pytest", 'defect = ["x"]\n', "'defect' is not an option of the pytest plugin"),
    ],
)
def test_a_key_the_command_does_not_take_is_an_error_naming_key_and_file(
    tmp_path: Path, command: str, text: str, message: str
) -> None:
    """A key silently passed over would be a setting the user believes in (a report that is
    never written, a limit never applied)."""
    config = write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        resolve({}, command, environ={}, config_path=config)
    assert str(raised.value).startswith(f"{config}: the key ")
    assert message in str(raised.value)


def test_keys_a_command_plainly_does_not_need_are_passed_over(tmp_path: Path) -> None:
    """One file for run, demo, list and validate: the demo brings its own KIC and DRCs, list
    and validate only read the selection and the contract."""
    config = write(
        tmp_path,
        'target = "http://kic/api/v1"\ndrc-url = "http://drc:8500"\njson = "r.json"\n'
        'tag = ["kic-001"]\n',
    )
    assert resolve({}, "demo", environ={}, config_path=config)["tag"] == ["kic-001"]
    assert resolve({}, "list", environ={}, config_path=config)["tag"] == ["kic-001"]
    assert "tag" not in resolve({}, "validate", environ={}, config_path=config)


def test_the_narrow_pair_names_where_its_one_value_came_from(tmp_path: Path) -> None:
    from harness.settings import pair_problem

    environ = {"KIC_CONFORMANCE_NARROW_SECRET": "n-secret"}
    values = resolve({}, "run", environ=environ)
    assert pair_problem(values, "narrow-client-id", "narrow-secret") == (
        "give both --narrow-client-id and --narrow-secret, or neither (--narrow-secret is set "
        "by the environment variable KIC_CONFORMANCE_NARROW_SECRET)"
    )
    config = write(tmp_path, 'narrow-client-id = "n"\n')
    values = resolve({}, "pytest", environ={}, config_path=config)
    assert pair_problem(values, "narrow-client-id", "narrow-secret", "pytest") == (
        "give both --kic-narrow-client-id and --kic-narrow-secret, or neither "
        f"(--kic-narrow-client-id is set by the config file {config})"
    )
    both = resolve({"narrow_client_id": "n"}, "run", environ=environ)
    assert pair_problem(both, "narrow-client-id", "narrow-secret") is None
