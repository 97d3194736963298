"""Configuration of the reference KIC: storage, public URL, API clients, DRC credentials,
answer profile, defects.

A configuration comes from code (``KicConfig(...)``), from a YAML/JSON file
(``KicConfig.from_file``) or from ``KIC_*`` environment variables (``KicConfig.from_env``).
Every mistake in a file or the environment raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zgw.jwt import Client

from .defects import DEFECTS as DEFECTS  # re-exported: the CLIs list them from here
from .defects import Defects, UnknownDefect
from .profiles import DEFAULT, Profile, UnknownProfile, profile_named

ALL_SCOPES = frozenset(
    {"klanten.lezen", "klanten.aanmaken", "klanten.bijwerken", "klanten.verwijderen"}
)


#: A Host header value or an ``allowed_hosts`` entry: a DNS name or IPv4 address, or an IPv6
#: address in brackets, with an optional port.
_HOST_PORT = re.compile(
    r"(?:\[(?P<ipv6>[0-9a-fA-F:.]{2,45})\]|(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and the problem."""


def split_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of ``host[:port]`` (IPv6 in brackets), the host lower-cased and
    without brackets, the port None when absent; None when ``value`` is not of that form."""
    match = _HOST_PORT.fullmatch(value.strip())
    if match is None:
        return None
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    host = (match.group("ipv6") or match.group("name")).lower().rstrip(".")
    return host, None if port is None else int(port)


@dataclass(frozen=True)
class DrcCredential:
    """Credentials the KIC uses for remote APIs whose URLs start with ``api_root``."""

    api_root: str
    client_id: str
    secret: str


@dataclass
class KicConfig:
    """Everything a reference KIC instance needs; see the module docstring for the sources."""

    db_path: str
    public_base_url: str | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    drc_credentials: list[DrcCredential] = field(default_factory=list)
    http_timeout: float = 10.0
    #: Any collection of defect names; checked and made a :class:`Defects` on creation.
    defects: Defects = field(default_factory=Defects)
    #: Seconds between reconciler rounds (see reconcile.py); 0 switches the reconciler off.
    reconcile_interval: float = 2.0
    #: Without ``public_base_url``: Host values (``name`` = any port, ``name:port``) that may
    #: build the KIC's URLs besides the address the connection reached and localhost,
    #: 127.0.0.1 and [::1] on the server's own port (see urls.py).
    allowed_hosts: tuple[str, ...] = ()
    #: How it answers where the contract and the VNG reference differ (profiles.py); a name
    #: ("default", "vng") is turned into the :class:`Profile` on creation.
    profile: Profile = DEFAULT

    def __post_init__(self) -> None:
        self.defects = parse_defects(self.defects, "defects")
        self.profile = parse_profile(self.profile, "profile")
        if self.public_base_url is not None:
            self.public_base_url = self.public_base_url.rstrip("/")
        self.allowed_hosts = parse_allowed_hosts(self.allowed_hosts, "allowed_hosts")

    def credential_for(self, url: str) -> DrcCredential | None:
        """The credential with the longest ``api_root`` that prefixes ``url``, if any."""
        best: DrcCredential | None = None
        for credential in self.drc_credentials:
            if url.startswith(credential.api_root) and (
                best is None or len(credential.api_root) > len(best.api_root)
            ):
                best = credential
        return best

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> KicConfig:
        """Read a YAML or JSON config file (keys: db, public_base_url, clients, drc, ...)."""
        data = _read_config_file(Path(path))
        return cls.from_mapping(data, source=str(path), **overrides)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, source: str = "config", **overrides: Any
    ) -> KicConfig:
        """Build a config from parsed file content; ``overrides`` win over the file."""
        known = {
            "db",
            "public_base_url",
            "clients",
            "drc",
            "http_timeout",
            "reconcile_interval",
            "defects",
            "allowed_hosts",
            "profile",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {
            "db_path": _optional_str(data, "db", source),
            "public_base_url": _optional_str(data, "public_base_url", source),
            "clients": parse_clients(data.get("clients", {}), f"{source}: clients"),
            "drc_credentials": parse_drc_credentials(data.get("drc", []), f"{source}: drc"),
            "defects": parse_defects(data.get("defects", []), f"{source}: defects"),
            "allowed_hosts": parse_allowed_hosts(
                data.get("allowed_hosts", ()), f"{source}: allowed_hosts"
            ),
            "profile": parse_profile(data.get("profile", DEFAULT), f"{source}: profile"),
        }
        if "http_timeout" in data:
            timeout = data["http_timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                raise ConfigError(f"{source}: http_timeout must be a positive number")
            values["http_timeout"] = float(timeout)
        if "reconcile_interval" in data:
            values["reconcile_interval"] = parse_interval(
                data["reconcile_interval"], f"{source}: reconcile_interval"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("db_path"):
            raise ConfigError(f"{source}: no database file given (key 'db' or KIC_DB)")
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KicConfig:
        """Read KIC_DB, KIC_PUBLIC_BASE_URL, KIC_CONFIG (a file), KIC_RECONCILE_INTERVAL,
        KIC_DEFECTS, KIC_PROFILE and KIC_ALLOWED_HOSTS (comma-separated; added to the file's)."""
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        source = "environment"
        if env.get("KIC_CONFIG"):
            source = env["KIC_CONFIG"]
            data = dict(_read_config_file(Path(env["KIC_CONFIG"])))
        if env.get("KIC_RECONCILE_INTERVAL"):
            data["reconcile_interval"] = parse_interval(
                env["KIC_RECONCILE_INTERVAL"], "KIC_RECONCILE_INTERVAL"
            )
        if env.get("KIC_DEFECTS"):
            data["defects"] = [d for d in env["KIC_DEFECTS"].split(",") if d.strip()]
        if env.get("KIC_ALLOWED_HOSTS"):
            from_env = parse_allowed_hosts(
                [h for h in env["KIC_ALLOWED_HOSTS"].split(",") if h.strip()], "KIC_ALLOWED_HOSTS"
            )
            from_file = parse_allowed_hosts(
                data.get("allowed_hosts", ()), f"{source}: allowed_hosts"
            )
            data["allowed_hosts"] = from_file + from_env
        if env.get("KIC_PROFILE"):
            data["profile"] = parse_profile(env["KIC_PROFILE"], "KIC_PROFILE")
        overrides = {
            "db_path": env.get("KIC_DB"),
            "public_base_url": env.get("KIC_PUBLIC_BASE_URL"),
        }
        try:
            return cls.from_mapping(data, source=source, **overrides)
        except ConfigError as exc:
            if "KIC_DEFECTS" in env and "defects" in str(exc):
                raise ConfigError(str(exc).replace(f"{source}: defects", "KIC_DEFECTS")) from None
            raise


def parse_interval(value: Any, where: str) -> float:
    """A number of seconds >= 0 (also from an environment string)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
        raise ConfigError(f"{where}: expected a number of seconds >= 0 (0 switches it off)")
    return float(value)


def parse_allowed_hosts(value: Any, where: str) -> tuple[str, ...]:
    """``allowed_hosts``: a list of ``host`` or ``host:port`` (IPv6 in brackets), normalised
    to lower case; a mistake names the entry."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: expected a list of host or host:port values")
    hosts = []
    for index, item in enumerate(value):
        parsed = split_host(item) if isinstance(item, str) else None
        if parsed is None:
            raise ConfigError(
                f"{where}[{index}]: {item!r} is not a host or host:port "
                "(e.g. kic.example.nl, kic.example.nl:8443, [::1]:8000)"
            )
        host, port = parsed
        shown = f"[{host}]" if ":" in host else host
        hosts.append(shown if port is None else f"{shown}:{port}")
    return tuple(hosts)


def parse_profile(value: Any, where: str) -> Profile:
    """A profile by name (or the profile itself), refusing unknown names with the valid ones."""
    if not isinstance(value, (str, Profile)):
        raise ConfigError(f"{where}: expected a profile name")
    try:
        return profile_named(value)
    except UnknownProfile as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_defects(value: Any, where: str) -> Defects:
    """Defects from a list of names (or one name), refusing unknown names with the valid ones."""
    if isinstance(value, Defects):
        return value
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ConfigError(f"{where}: expected a list of defect names")
    try:
        return Defects(str(v) for v in value)
    except UnknownDefect as exc:
        raise ConfigError(f"{where}: {exc}") from None


def parse_clients(value: Any, where: str) -> dict[str, Client]:
    """Parse ``{client_id: {secret: ..., scopes: [..] | "all"}}`` into zgw Clients."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of client_id to {{secret, scopes}}")
    clients: dict[str, Client] = {}
    for client_id, spec in value.items():
        place = f"{where}.{client_id}"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{place}: expected a mapping with 'secret' and 'scopes'")
        secret = spec.get("secret")
        if not isinstance(secret, str) or not secret:
            raise ConfigError(f"{place}.secret: a non-empty string is required")
        clients[str(client_id)] = Client(
            str(client_id), secret, parse_scopes(spec.get("scopes", "all"), f"{place}.scopes")
        )
    return clients


def parse_scopes(value: Any, where: str) -> frozenset[str]:
    """``"all"`` (or a list containing it) means all four klanten scopes."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected 'all' or a list of scope names")
    if "all" in value:
        return ALL_SCOPES
    unknown = sorted(set(value) - ALL_SCOPES)
    if unknown:
        raise ConfigError(
            f"{where}: unknown scope(s) {', '.join(unknown)}; valid: all, "
            + ", ".join(sorted(ALL_SCOPES))
        )
    return frozenset(value)


def parse_drc_credentials(value: Any, where: str) -> list[DrcCredential]:
    """Parse ``[{api_root, client_id, secret}, ...]``."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of {{api_root, client_id, secret}}")
    credentials = []
    for index, item in enumerate(value):
        place = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{place}: expected a mapping with api_root, client_id, secret")
        fields = {}
        for key in ("api_root", "client_id", "secret"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(f"{place}.{key}: a non-empty string is required")
            fields[key] = item[key]
        credentials.append(DrcCredential(**fields))
    return credentials


def _optional_str(data: Mapping[str, Any], key: str, source: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string")
    return value


def _read_config_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data
