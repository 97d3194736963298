"""The options of ``kic-conformance`` and where each value comes from.

Every option is declared once, in :data:`OPTIONS`; the command line (:mod:`harness.cli`) and
the pytest plugin (:mod:`harness.pytest_plugin`, as ``--kic-<name>``) build their arguments
from it. A value is taken from, in this order:

1. the command line (``--secret S``; pytest: ``--kic-secret S``);
2. an environment variable ``KIC_CONFORMANCE_<NAME>`` (``KIC_CONFORMANCE_SECRET``; dashes
   become underscores; a list option takes comma-separated values, a switch ``1``/``true``/
   ``yes``/``on`` or ``0``/``false``/``no``/``off``);
3. the config file: ``--config FILE`` (or ``KIC_CONFORMANCE_CONFIG``), else
   ``kic-conformance.toml`` in the current folder when there is one. Its keys are the long
   option names (``client-id = "suite"``), ``${VAR}`` in a string is replaced by that
   environment variable, relative paths are relative to the file's folder, and an unknown key
   is an error. So is a key the command does not take (``defect`` for ``run``; ``json``,
   ``html``, ``junit``, ``workers``, ``max-failures``, ``defect`` for the pytest plugin:
   :func:`key_problem`), except where it is plainly not meant for the command: ``list`` and
   ``validate`` take what they need from a file shared with ``run``, and ``demo`` brings its
   own KIC and DRCs, so it passes over the keys of the KIC under test and the DRC;
4. the option's default.

:func:`resolve` also says where each value came from (``sources``), for messages about
options that go together (:func:`pair_problem`).

Every problem is a :class:`SettingsError` whose message names the option and where the bad
value came from, in one line.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import DEFAULT_DRC_CALLBACK_CLIENT, DEFAULT_DRC_CLIENT, DEFAULT_FUZZ_SEED

# The reading of values (environment, TOML file, precedence) is shared with mock-drc.
from zgw.settings import CONFIG_FILE as CONFIG_FILE_SOURCE
from zgw.settings import ENVIRONMENT, picked, read_config
from zgw.settings import SettingsError as SettingsError
from zgw.settings import argparse_type as argparse_type
from zgw.settings import find_config as _find_config
from zgw.settings import text as _text

ENV_PREFIX = "KIC_CONFORMANCE_"
CONFIG_FILE = "kic-conformance.toml"
CONFIG_ENV = ENV_PREFIX + "CONFIG"


# -- value kinds: text -> value (command line, environment, file) ------------------------------


def _url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


def _positive(value: str) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return number


def _seconds(value: str) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError(f"expected a number of seconds >= 0, got {value!r}")
    return number


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None


def _count(value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return int(value)


def _at_least_one(value: str) -> int:
    number = _count(value)
    if number < 1:
        raise ValueError(f"expected a whole number >= 1, got {value!r}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None


def _port(value: str) -> int:
    number = _count(value)
    if number > 65535:
        raise ValueError(f"expected a port 0-65535, got {value!r}")
    return number


def _credentials(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        # Described, not echoed: the value may be a secret typed without its client id.
        what = "no ':'" if not sep else ("no client id" if not client_id else "no secret")
        raise ValueError(f"expected CLIENT_ID:SECRET, got a value with {what}")
    return client_id, secret


@dataclass(frozen=True)
class Option:
    """One option: its long name (``client-id``), how to read a value, its default, where it
    is offered (``commands`` of the CLI; ``pytest`` for the plugin) and its help."""

    name: str
    help: str
    parse: Callable[[str], Any] = _text
    default: Any = None
    metavar: str | None = None
    group: str = "target"
    commands: frozenset[str] = frozenset({"run"})
    pytest: bool = True
    many: bool = False  # repeatable; a list
    switch: bool = False  # a flag without value
    path: bool = False  # a file or folder: relative to the config file's folder there
    pytest_name: str | None = None  # the plugin's name when not "kic-<name>"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()

    def flag(self, front_end: str = "cli") -> str:
        """How a user names this option on the command line of ``front_end``."""
        if front_end == "pytest":
            return f"--{self.pytest_name or 'kic-' + self.name}"
        return f"--{self.name}"


RUN_AND_DEMO = frozenset({"run", "demo"})
SELECTING = frozenset({"run", "demo", "list"})

OPTIONS: tuple[Option, ...] = (
    # -- the KIC under test
    Option("target", "the KIC's API root, e.g. https://kic.example.nl/api/v1", _url,
           pytest_name="kic-url", metavar="URL"),
    Option("client-id", "a client with all four klanten scopes"),
    Option("secret", "that client's JWT secret"),
    Option("narrow-client-id", "a client with only klanten.lezen (enables the scope checks)"),
    Option("narrow-secret", "that client's JWT secret"),
    Option("tls-ca-bundle", "trust these CA certificates (PEM) for HTTPS instead of the default "
           "ones (SSL_CERT_FILE, else certifi's)", Path, metavar="FILE", path=True),
    Option("insecure", "do not check TLS certificates (a trial run: the run is incomplete)",
           switch=True, default=False),
    Option("wait-for-target", "wait up to this many seconds for the target to answer before "
           "the pre-flight checks (default 0)", _seconds, default=0.0, metavar="S"),
    # -- the mock DRC (kic-001)
    Option("drc-url", "base URL of a mock DRC started apart (mock-drc serve)", _url,
           group="drc", metavar="URL"),
    Option("drc-host", "start the mock DRC in-process, listening on this host", group="drc"),
    Option("drc-port", "... and this port (0: any free port)", _port, group="drc",
           metavar="PORT"),
    Option("drc-public-url", "base URL your KIC uses to reach that DRC (default "
           "http://HOST:PORT)", _url, group="drc", metavar="URL"),
    Option("drc-client", "credentials your KIC uses at the DRC", _credentials,
           default=DEFAULT_DRC_CLIENT, group="drc", metavar="ID:SECRET"),
    Option("drc-callback-client", "credentials the DRC uses to call your KIC back (needs "
           "klanten.lezen in your KIC; with --drc-url: the DRC's --callback-client)",
           _credentials, default=DEFAULT_DRC_CALLBACK_CLIENT, group="drc",
           metavar="ID:SECRET"),
    Option("drc-accept-any-token", "the DRC accepts any token from your KIC (incomplete run)",
           group="drc", switch=True, default=False),
    Option("drc-lenient", "the DRC does not call your KIC back (incomplete run)", group="drc",
           switch=True, default=False),
    Option("second-drc-url", "base URL of a second mock DRC started apart, for the scenarios "
           "with documents of two DRCs (your KIC needs credentials for both)", _url,
           group="drc", metavar="URL"),
    Option("second-drc-port", "start a second mock DRC on --drc-host at this port (0: any "
           "free port), like the first", _port, group="drc", metavar="PORT"),
    Option("second-drc-public-url", "base URL your KIC uses to reach the second DRC "
           "(default http://HOST:PORT)", _url, group="drc", metavar="URL"),
    # -- selection
    Option("scenarios", "scenario folder or file (repeatable; default: the built-in library)",
           Path, group="selection", commands=SELECTING, many=True, path=True, metavar="DIR",
           pytest_name="kic-scenarios"),
    Option("tag", "only scenarios with this tag or rule", group="selection", commands=SELECTING,
           many=True),
    Option("id", "only this scenario id", group="selection", commands=SELECTING, many=True),
    Option("operation", "only scenarios calling this operationId", group="selection",
           commands=SELECTING, many=True),
    Option("exclude-tag", "leave out this tag", group="selection", commands=SELECTING,
           many=True),
    Option("exclude-id", "leave out this id", group="selection", commands=SELECTING, many=True),
    # -- the run
    Option("junit", "write a JUnit XML report", Path, group="reports", commands=RUN_AND_DEMO,
           pytest=False, path=True, metavar="FILE"),
    Option("json", "write a JSON report", Path, group="reports", commands=RUN_AND_DEMO,
           pytest=False, path=True, metavar="FILE"),
    Option("html", "write a self-contained HTML report", Path, group="reports",
           commands=RUN_AND_DEMO, pytest=False, path=True, metavar="FILE"),
    Option("fuzz-examples", "generated requests per operation (0: no fuzzing; default 25)",
           _count, default=25, group="reports", commands=RUN_AND_DEMO, metavar="N"),
    Option("fuzz-seed", f"fuzzing seed (default {DEFAULT_FUZZ_SEED})", _integer,
           default=DEFAULT_FUZZ_SEED, group="reports", commands=RUN_AND_DEMO, metavar="S"),
    Option("no-fuzz", "do not fuzz", group="reports", commands=RUN_AND_DEMO, switch=True,
           default=False),
    Option("timeout", "seconds per request, from connecting to the last byte (default 10)",
           _positive, default=10.0, group="reports", commands=RUN_AND_DEMO, metavar="S"),
    Option("workers", "scenarios run at the same time (default 4)", _at_least_one, default=4,
           group="reports", commands=RUN_AND_DEMO, pytest=False, metavar="N"),
    Option("max-failures", "stop after this many failed, precondition-failed or error cases "
           "(the run is then incomplete; running workers finish theirs, so a few more may end)",
           _at_least_one, group="reports", commands=RUN_AND_DEMO, pytest=False, metavar="N"),
    Option("spec", "OpenAPI file (default: the built-in contract)", Path, group="reports",
           commands=frozenset({"run", "demo", "list", "validate"}), path=True, metavar="FILE"),
    Option("defect", "switch the reference KIC into a deliberately broken variant",
           group="demo", commands=frozenset({"demo"}), pytest=False, many=True, metavar="NAME"),
)  # fmt: skip

BY_NAME = {option.name: option for option in OPTIONS}
GROUP_TITLES = {
    "target": "the KIC under test",
    "drc": "mock DRC (kic-001 scenarios)",
    "selection": "selection",
    "reports": "reports, fuzzing and limits",
    "demo": "demo",
}
#: Options a run cannot do without (the CLI's ``run``; the plugin's ``--kic-url`` mode).
REQUIRED = ("target", "client-id", "secret")


def options_for(command: str) -> list[Option]:
    """The options of a CLI command (``pytest``: the plugin's)."""
    if command == "pytest":
        return [o for o in OPTIONS if o.pytest]
    return [o for o in OPTIONS if command in o.commands]


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the options of ``command`` to ``parser`` in their groups; every default is None,
    so :func:`resolve` can tell what the command line left open."""
    groups: dict[str, Any] = {}
    for option in options_for(command):
        group = groups.get(option.group)
        if group is None:
            group = groups[option.group] = parser.add_argument_group(GROUP_TITLES[option.group])
        help_text = f"{option.help} [env {option.env}]"
        if option.switch:
            group.add_argument(option.flag(), action="store_true", default=None, help=help_text)
        else:
            group.add_argument(
                option.flag(),
                type=argparse_type(option),
                action="append" if option.many else "store",
                default=None,
                metavar=option.metavar or option.dest.upper(),
                help=help_text,
            )


# -- the config file --------------------------------------------------------------------------


@dataclass
class ConfigFile:
    """The values of a ``kic-conformance.toml`` (already expanded and checked by kind)."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)


def find_config(given: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: ``given``, else ``KIC_CONFORMANCE_CONFIG``, else
    ``kic-conformance.toml`` in the current folder when it exists."""
    return _find_config(given, environ, env_name=CONFIG_ENV, default_name=CONFIG_FILE)


def load_config(path: Path, environ: Mapping[str, str]) -> ConfigFile:
    """Read and check ``path``: known keys only, ``${VAR}`` expanded, values of the right kind."""
    return ConfigFile(path, read_config(path, BY_NAME, environ))


# -- resolving ---------------------------------------------------------------------------------

#: What the pytest plugin has instead of the CLI options it does not take.
PYTEST_INSTEAD = {
    "junit": "pytest's --junitxml",
    "workers": "pytest-xdist's -n",
    "max-failures": "pytest's --maxfail",
}


def _command_name(command: str) -> str:
    return "the pytest plugin" if command == "pytest" else f"kic-conformance {command}"


def key_problem(key: str, command: str, path: Path) -> str | None:
    """Why the config file key ``key`` cannot be used by ``command`` (None: it can, or the
    command passes over it: see the module docstring)."""
    option = BY_NAME[key]
    if option in options_for(command) or command in ("list", "validate"):
        return None
    if command == "demo" and option.group in ("target", "drc"):
        return None
    takers = sorted(option.commands) + (["the pytest plugin"] if option.pytest else [])
    text = f"{path}: the key {key!r} is not an option of {_command_name(command)}"
    text += f" (only of: {', '.join(takers)})" if takers else ""
    other_file = "--kic-config FILE" if command == "pytest" else "--config FILE"
    instead = PYTEST_INSTEAD.get(key) if command == "pytest" else None
    text += f"; use {instead} instead," if instead else ";"
    return f"{text} and leave the key out (or give another file: {other_file})"


def _source_text(source: str, option: Option, file: ConfigFile | None) -> str:
    """Where a value came from, for messages that must say which value to fix."""
    if source == ENVIRONMENT:
        return f"the environment variable {option.env}"
    if source == CONFIG_FILE_SOURCE and file is not None:
        return f"the config file {file.path}"
    return f"the {source}"


def resolve(
    given: Mapping[str, Any],
    command: str,
    *,
    environ: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> dict[str, Any]:
    """Every option of ``command`` (``pytest`` for the plugin) by dest: from ``given`` (the
    command line; None = not given), else the environment, else the config file, else the
    default. Raises :class:`SettingsError`."""
    environ = os.environ if environ is None else environ
    found = find_config(config_path, environ)
    file = load_config(found, environ) if found else None
    for key in file.values if file else []:
        problem = key_problem(key, command, file.path)
        if problem:
            raise SettingsError(problem)
    values: dict[str, Any] = {}
    file_values = file.values if file is not None else {}
    sources: dict[str, str] = {}
    for option in options_for(command):
        values[option.dest], source = picked(option, given.get(option.dest), environ, file_values)
        if source is not None:
            sources[option.dest] = _source_text(source, option, file)
    values["config_file"] = str(file.path) if file else None
    values["sources"] = sources
    return values


def require(values: Mapping[str, Any], names: tuple[str, ...], front_end: str = "cli") -> None:
    """Raise :class:`SettingsError` naming every one of ``names`` that has no value."""
    missing = [BY_NAME[n] for n in names if values.get(BY_NAME[n].dest) in (None, "")]
    if missing:
        flags = ", ".join(o.flag(front_end) for o in missing)
        envs = ", ".join(o.env for o in missing)
        raise SettingsError(
            f"missing {flags} (or the environment variable {envs}, or the key in {CONFIG_FILE})"
        )


def pair_problem(
    values: Mapping[str, Any], first: str, second: str, front_end: str = "cli"
) -> str | None:
    """The problem when only one of two options that go together has a value, naming where
    that value came from (``values["sources"]`` of :func:`resolve`); None: both or neither."""
    one, other = BY_NAME[first], BY_NAME[second]
    if bool(values.get(one.dest)) == bool(values.get(other.dest)):
        return None
    given = one if values.get(one.dest) else other
    source = (values.get("sources") or {}).get(given.dest, "the command line")
    return (
        f"give both {one.flag(front_end)} and {other.flag(front_end)}, or neither "
        f"({given.flag(front_end)} is set by {source})"
    )


def second_drc_problem(values: Mapping[str, Any], front_end: str = "cli") -> str | None:
    """What is wrong with the options of the second mock DRC, in one line (None: nothing).

    ``values`` are the resolved options by dest; ``front_end`` spells the flags (``pytest``:
    ``--kic-...``). A URL that names one of the DRC's APIs is the pre-flight's to tell
    (:func:`harness.run.check_before_run`).
    """

    def flag(name: str) -> str:
        return BY_NAME[name].flag(front_end)

    url = values.get("second_drc_url")
    port = values.get("second_drc_port")
    first_url, first_host = values.get("drc_url"), values.get("drc_host")
    if url and port is not None:
        return f"give either {flag('second-drc-url')} or {flag('second-drc-port')}, not both"
    if port is not None and first_host is None:
        return (
            f"{flag('second-drc-port')} starts a second mock DRC next to the first: give "
            f"{flag('drc-host')}/{flag('drc-port')} too"
        )
    if values.get("second_drc_public_url") and port is None:
        return f"{flag('second-drc-public-url')} goes with {flag('second-drc-port')}"
    if port and port == values.get("drc_port"):
        return f"{flag('second-drc-port')} {port} is the first DRC's port: give another (or 0)"
    if not url:
        return None
    if not first_url and first_host is None:
        return (
            f"{flag('second-drc-url')} needs the first mock DRC too ({flag('drc-url')} or "
            f"{flag('drc-host')}/{flag('drc-port')})"
        )
    if first_url and url.rstrip("/") == first_url.rstrip("/"):
        return f"{flag('second-drc-url')} names the DRC of {flag('drc-url')}: give another one"
    return None
