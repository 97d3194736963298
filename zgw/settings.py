"""Where the value of a command's option comes from: one reading for every command.

``kic-conformance`` (:mod:`harness.settings`) and ``mock-drc serve`` (:mod:`mock_drc.cli`)
take an option's value from, in this order:

1. the command line;
2. an environment variable, ``<PREFIX><NAME>`` (dashes become underscores: a secret never has
   to be on a command line, where ``ps`` shows it). A list takes comma-separated values, a
   switch ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``;
3. a TOML config file whose keys are the long option names. ``${VAR}`` in a string is
   replaced by that environment variable, a path is relative to the file's folder, and an
   unknown key is an error;
4. the option's default.

Each command declares its own options (anything with the attributes of :class:`OptionSpec`;
:class:`Option` is a plain one) and its own prefix and file name; the reading lives here, so
the harness and the servers read values alike. Every problem is a :class:`SettingsError`
whose one-line message names the option and where the bad value came from (the variable, or
the file and key).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser (declared for < 3.11 only)
    import tomli as tomllib

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SettingsError(Exception):
    """A missing or bad option value; the message names the option and its source."""


def text(value: str) -> str:
    """A non-empty string (the kind of an option that declares none)."""
    if not value:
        raise ValueError("expected a non-empty value")
    return value


def parse_switch(value: str) -> bool:
    """A switch's value from the environment: ``1``/``true``/``yes``/``on`` or
    ``0``/``false``/``no``/``off`` (or empty), any case."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected one of 1/true/yes/on or 0/false/no/off, got {value!r}")


class OptionSpec(Protocol):
    """What this module needs to know of an option."""

    @property
    def name(self) -> str: ...  # the long name, ``client-id``: the flag and the file's key

    @property
    def parse(self) -> Callable[[str], Any]: ...  # text -> value; ValueError when bad

    @property
    def default(self) -> Any: ...

    @property
    def many(self) -> bool: ...  # repeatable; a list

    @property
    def switch(self) -> bool: ...  # a flag without value

    @property
    def path(self) -> bool: ...  # a file or folder: relative to the config file's folder there

    @property
    def dest(self) -> str: ...  # the name as an attribute, ``client_id``

    @property
    def env(self) -> str: ...  # its environment variable


@dataclass(frozen=True)
class Option:
    """A plain option: long name, help, how to read a value, default, environment prefix."""

    name: str
    help: str
    parse: Callable[[str], Any] = text
    default: Any = None
    metavar: str | None = None
    many: bool = False
    switch: bool = False
    path: bool = False
    env_prefix: str = ""

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return self.env_prefix + self.dest.upper()


def argparse_type(option: OptionSpec) -> Callable[[str], Any]:
    """``option.parse`` for argparse: its ValueError becomes argparse's usage error."""

    def convert(text: str) -> Any:
        try:
            return option.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = option.name  # argparse names the type in its messages
    return convert


def env_value(option: OptionSpec, text: str) -> Any:
    """The value of ``option`` from its environment variable's ``text``."""
    try:
        if option.switch:
            return parse_switch(text)
        if option.many:
            return [option.parse(part.strip()) for part in text.split(",") if part.strip()]
        return option.parse(text)
    except ValueError as exc:
        raise SettingsError(f"{option.env}: {exc}") from None


# -- the config file --------------------------------------------------------------------------


def find_config(
    given: str | Path | None, environ: Mapping[str, str], *, env_name: str, default_name: str
) -> Path | None:
    """The config file to read: ``given`` (``--config``), else the one the variable
    ``env_name`` names, else ``default_name`` in the current folder when it exists."""
    chosen = given or environ.get(env_name)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            source = "--config" if given else env_name
            raise SettingsError(f"{source} {path}: no such file")
        return path
    default = Path(default_name)
    return default if default.is_file() else None


def read_config(
    path: Path, options: Mapping[str, OptionSpec], environ: Mapping[str, str]
) -> dict[str, Any]:
    """The values of the TOML file ``path`` by option name: known keys (``options``) only,
    ``${VAR}`` expanded, each value checked by its option's kind."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        option = options.get(key)
        if option is None:
            known = ", ".join(sorted(options))
            raise SettingsError(f"{path}: unknown key {key!r} (known keys: {known})")
        values[key] = file_value(option, expand(value, f"{path}: {key}", environ), path)
    return values


def expand(value: Any, where: str, environ: Mapping[str, str]) -> Any:
    """``value`` with every ``${VAR}`` in its strings replaced; ``where`` names it in errors."""
    if isinstance(value, list):
        return [expand(item, where, environ) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise SettingsError(f"{where}: the environment variable {name} is not set")
        return environ[name]

    return _VARIABLE.sub(replace, value)


def file_value(option: OptionSpec, value: Any, path: Path) -> Any:
    """The value of ``option`` from the TOML value ``value`` of the file ``path``."""
    where = f"{path}: {option.name}"
    if option.switch:
        if not isinstance(value, bool):
            raise SettingsError(f"{where}: expected true or false, got {value!r}")
        return value
    items = value if option.many and isinstance(value, list) else [value]
    if option.many and not isinstance(value, (list, str)):
        raise SettingsError(f"{where}: expected a list of strings, got {value!r}")
    converted = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise SettingsError(f"{where}: expected a string or number, got {item!r}")
        try:
            result = option.parse(str(item))
        except ValueError as exc:
            raise SettingsError(f"{where}: {exc}") from None
        if option.path:
            result = path.parent / result
        converted.append(result)
    return converted if option.many else converted[0]


# -- precedence --------------------------------------------------------------------------------


#: Where :func:`picked` found a value (None: the option's default).
COMMAND_LINE, ENVIRONMENT, CONFIG_FILE = "command line", "environment", "config file"


def picked(
    option: OptionSpec, given: Any, environ: Mapping[str, str], file_values: Mapping[str, Any]
) -> tuple[Any, str | None]:
    """The value of ``option`` and where it came from: ``given`` (the command line; None =
    not given), else its environment variable, else ``file_values`` (:func:`read_config`),
    else its default (source None)."""
    if given is not None:
        return given, COMMAND_LINE
    if environ.get(option.env) is not None:
        value = env_value(option, environ[option.env])
        if value is not None:
            return value, ENVIRONMENT
    if option.name in file_values and file_values[option.name] is not None:
        return file_values[option.name], CONFIG_FILE
    return (list(option.default or []) if option.many else option.default), None


def pick(
    option: OptionSpec, given: Any, environ: Mapping[str, str], file_values: Mapping[str, Any]
) -> Any:
    """The value of ``option`` (:func:`picked`, without where it came from)."""
    return picked(option, given, environ, file_values)[0]
