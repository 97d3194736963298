"""zgw.settings: the one reading of option values from the environment and a TOML file that
kic-conformance and mock-drc share (each declares its own options, prefix and file name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zgw.settings import (
    Option,
    SettingsError,
    env_value,
    find_config,
    parse_switch,
    pick,
    read_config,
)

NUMBER = Option("max-count", "a number", int, default=3, env_prefix="TOY_")
NAMES = Option("name", "names", many=True, env_prefix="TOY_")
FLAG = Option("dry-run", "a switch", switch=True, default=False, env_prefix="TOY_")
FOLDER = Option("out", "a folder", Path, path=True, env_prefix="TOY_")
KNOWN = {o.name: o for o in (NUMBER, NAMES, FLAG, FOLDER)}


def test_an_option_names_its_variable_after_its_prefix_and_long_name() -> None:
    assert (NUMBER.dest, NUMBER.env) == ("max_count", "TOY_MAX_COUNT")


def test_pick_prefers_the_command_line_then_the_environment_then_the_file() -> None:
    file_values = {"max-count": 7, "name": ["f"]}
    environ = {"TOY_MAX_COUNT": "5", "TOY_NAME": "a, b,,"}
    assert pick(NUMBER, 9, environ, file_values) == 9
    assert pick(NUMBER, None, environ, file_values) == 5
    assert pick(NUMBER, None, {}, file_values) == 7
    assert pick(NUMBER, None, {}, {}) == 3
    assert pick(NAMES, None, environ, file_values) == ["a", "b"]
    assert pick(NAMES, None, {}, {}) == []
    assert pick(FLAG, None, {"TOY_DRY_RUN": "On"}, {}) is True


@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("YES", True), ("off", False), ("", False)]
)
def test_switch_words(text: str, value: bool) -> None:
    assert parse_switch(text) is value


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        (NUMBER, "many", "TOY_MAX_COUNT: invalid literal"),
        (FLAG, "maybe", "TOY_DRY_RUN: expected one of 1/true/yes/on or 0/false/no/off"),
    ],
)
def test_a_bad_environment_value_names_the_variable(
    option: Option, text: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        env_value(option, text)


def test_the_file_expands_variables_and_makes_paths_relative_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "toy.toml"
    path.write_text('name = ["${WHO}", "x"]\nout = "reports"\ndry-run = true\n', encoding="utf-8")
    values = read_config(path, KNOWN, {"WHO": "me"})
    assert values == {"name": ["me", "x"], "out": tmp_path / "reports", "dry-run": True}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nmae = 1\n", "toy.toml: unknown key 'nmae' (known keys: dry-run, max-count, name, out)"),
        ('name = "${NOPE}"\n', "toy.toml: name: the environment variable NOPE is not set"),
        ('dry-run = "true"\n', "toy.toml: dry-run: expected true or false"),
        ("max-count = true\n", "toy.toml: max-count: expected a string or number"),
        ("name = {a = 1}\n", "toy.toml: name: expected a list of strings"),
        ("name = \n", "toy.toml: not valid TOML"),
    ],
)
def test_a_bad_file_value_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "toy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        read_config(path, KNOWN, {})
    assert message in str(caught.value)


def test_find_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = {"env_name": "TOY_CONFIG", "default_name": "toy.toml"}
    assert find_config(None, {}, **found) is None
    (tmp_path / "toy.toml").write_text("", encoding="utf-8")
    assert find_config(None, {}, **found) == Path("toy.toml")
    assert find_config(None, {"TOY_CONFIG": "toy.toml"}, **found) == Path("toy.toml")
    with pytest.raises(SettingsError, match=r"^TOY_CONFIG other\.toml: no such file$"):
        find_config(None, {"TOY_CONFIG": "other.toml"}, **found)
    with pytest.raises(SettingsError, match=r"^--config other\.toml: no such file$"):
        find_config("other.toml", {}, **found)


def test_the_harness_and_the_mock_drc_share_this_reading() -> None:
    import harness.settings
    import mock_drc.cli
    import zgw.settings

    assert harness.settings.SettingsError is zgw.settings.SettingsError
    # One precedence: mock-drc's pick is picked without the source, which the harness uses.
    assert mock_drc.cli.pick is zgw.settings.pick and harness.settings.picked is zgw.settings.picked
