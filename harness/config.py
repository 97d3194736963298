"""The settings of one conformance run (:class:`RunConfig`) and which scenarios it selects.

:meth:`RunConfig.authorization` is the one place that chooses the Authorization header for a
client or auth variant (``default``, ``none``, ``invalid``, ``wrong-secret``, ``alg-none``,
``expired``, ``unknown-client``, the narrow client, a literal token): the scenario runner and
the fuzz phase both ask it.
"""

from __future__ import annotations

import re
import shlex
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zgw.jwt import bearer

#: What an ``auth: invalid`` step sends: a bearer value that is no JWT at all.
INVALID_TOKEN = "Bearer this-is-not-a-jwt"
#: The client an ``auth: unknown-client`` token names: no KIC configures it.
UNKNOWN_CLIENT = "kic-conformance-unknown-client"
#: How long ago an ``auth: expired`` token was made and expired (seconds): well past the
#: hour by ``iat`` and the minutes by ``exp`` after which a ZGW server refuses a token.
EXPIRED_AGO = 2 * 3600
DEFAULT_FUZZ_SEED = 20201
DEFAULT_FUZZ_EXAMPLES = 25
DEFAULT_MAX_BODY_BYTES = 2_000_000
#: Where a pasted reproduce line reads the main and the narrow client's secret from.
SECRET_VARIABLES = ("KIC_CONFORMANCE_SECRET", "KIC_CONFORMANCE_NARROW_SECRET")
#: The mock DRC's clients by default: the one your KIC uses at the DRC, and the one the DRC
#: calls your KIC back with (``--drc-client``, ``--drc-callback-client``).
DEFAULT_DRC_CLIENT = ("kic", "kic-secret")
DEFAULT_DRC_CALLBACK_CLIENT = ("mock-drc", "mock-drc-secret")
#: Where a pasted reproduce line reads those two from, as ID:SECRET, when a run had others
#: (the environment variables of the options themselves).
DRC_CLIENT_VARIABLE = "KIC_CONFORMANCE_DRC_CLIENT"
DRC_CALLBACK_VARIABLE = "KIC_CONFORMANCE_DRC_CALLBACK_CLIENT"
_VARIABLE_USE = re.compile(r"\$(KIC_CONFORMANCE_[A-Z_]+)")


@dataclass
class Selection:
    """Which scenarios run: include filters (any match) minus exclude filters (any match).

    Empty include lists select everything. ``operations`` match the operationIds a scenario
    calls; ``tags`` match its tags (folder name included) and its rule; ``ids`` match exactly.
    """

    tags: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    exclude_ids: list[str] = field(default_factory=list)
    exclude_operations: list[str] = field(default_factory=list)

    def selects(self, scenario: Any) -> bool:
        """True when ``scenario`` (a :class:`harness.scenarios.Scenario`) is selected."""
        labels = {*scenario.tags, scenario.rule}
        ops = set(scenario.operations)
        if scenario.id in self.exclude_ids or labels & set(self.exclude_tags):
            return False
        if ops & set(self.exclude_operations):
            return False
        includes = [
            (self.tags, bool(labels & set(self.tags))),
            (self.ids, scenario.id in self.ids),
            (self.operations, bool(ops & set(self.operations))),
        ]
        active = [hit for wanted, hit in includes if wanted]
        return all(active) if active else True

    def describe(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.__dict__.items() if v}


class MissingCapability(Exception):
    """The run lacks what a scenario needs (``drc``, ``zaken``, ``narrow-client``)."""

    def __init__(self, capability: str) -> None:
        super().__init__(capability)
        self.capability = capability


#: Why a scenario is skipped, per capability it needs and the run lacks; ``{--name}`` is the
#: option as the front end spells it (``--drc-url``, or ``--kic-drc-url`` under pytest).
SKIP_REASONS = {
    "drc": "needs the mock DRC (give {--drc-url}, or {--drc-host}/{--drc-port} to start one)",
    "zaken": "needs the mock DRC's Zaken endpoints (give {--drc-url} or {--drc-host}/{--drc-port})",
    "narrow-client": "needs a narrow-scope client ({--narrow-client-id}/{--narrow-secret})",
    "second-drc": "needs a second mock DRC, for documents of two DRCs (give {--second-drc-url}, "
    "or {--second-drc-port} with {--drc-host} to start one; your KIC needs credentials for it)",
}
_OPTION = re.compile(r"\{--([a-z-]+)\}")


def skip_reason(missing: list[str], option_prefix: str = "--") -> str:
    """The skip reason of a scenario that needs the ``missing`` capabilities; options are
    named with ``option_prefix`` (``--kic-`` for the pytest plugin)."""
    text = "; ".join(SKIP_REASONS.get(m, f"needs {m}") for m in missing)
    return _OPTION.sub(lambda m: option_prefix + m.group(1), text)


@dataclass
class RunConfig:
    """Everything one run needs: the target, credentials, the DRC, limits, fuzzing, selection.

    ``target`` is the KIC's API root (``http://host:port/api/v1``; a trailing ``/`` is dropped
    here, once). ``drc_url`` is the base URL of a mock DRC (:mod:`harness.drc_control` knows its
    paths); ``None`` skips scenarios that need it, with that reason. ``second_drc_url`` is a
    second one (``second-drc`` scenarios: documents of two DRCs, each mirror in its own);
    ``drc_callback_client`` is what the DRCs send when they call the KIC back (the pre-flight
    tries it).

    ``tls_ca_bundle`` / ``tls_insecure`` choose how HTTPS certificates are checked
    (:meth:`ssl_context`); ``wait_for_target`` is how long the pre-flight waits for a target
    that does not answer yet; ``max_failures`` stops the run after that many failed cases.
    ``option_prefix`` is how the front end spells its options in messages (``--``, or
    ``--kic-`` for the pytest plugin).
    """

    target: str
    client_id: str
    secret: str
    narrow_client: tuple[str, str] | None = None
    drc_url: str | None = None
    second_drc_url: str | None = None
    timeout: float = 10.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    fuzz_examples: int = 25
    fuzz_seed: int = DEFAULT_FUZZ_SEED
    selection: Selection = field(default_factory=Selection)
    spec_path: Path | None = None
    scenario_paths: list[Path] | None = None
    workers: int = 4
    #: Capabilities the environment offers beyond the DRC (e.g. "zaken"); None = derive.
    capabilities: frozenset[str] | None = None
    #: The defects of a ``demo`` run (its reference KIC and mock DRC are embedded); None: no demo
    demo_defects: tuple[str, ...] | None = None
    #: The options that started this run's own mock DRC (``--drc-host H --drc-port P``); None:
    #: no DRC, or one started apart (``--drc-url``). Reproduce lines start it again.
    embedded_drc: list[str] | None = None
    drc_callback_client: tuple[str, str] | None = None
    tls_ca_bundle: Path | None = None
    tls_insecure: bool = False
    wait_for_target: float = 0.0
    max_failures: int | None = None
    option_prefix: str = "--"

    def __post_init__(self) -> None:
        self.target = self.target.rstrip("/")
        if self.drc_url:
            self.drc_url = self.drc_url.rstrip("/")
        if self.second_drc_url:
            self.second_drc_url = self.second_drc_url.rstrip("/")
        self._ssl_context: ssl.SSLContext | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings of every harness client of this run (made once)."""
        if self._ssl_context is None:
            from harness.transport import tls_context

            self._ssl_context = tls_context(self.tls_ca_bundle, insecure=self.tls_insecure)
        return self._ssl_context

    def option(self, name: str) -> str:
        """How the user spells the option ``name`` (``secret``) in this front end."""
        if name == "target" and self.option_prefix != "--":
            return "--kic-url"
        return self.option_prefix + name

    def skip_reason(self, missing: list[str]) -> str:
        """:func:`skip_reason` with this front end's option names."""
        return skip_reason(missing, self.option_prefix)

    def authorization(self, auth: Any = "default") -> str | None:
        """The Authorization value for a step's ``auth`` (None: send no header).

        Every token but ``default`` and the narrow client's is one a KIC must refuse: ``invalid``
        is no JWT, ``wrong-secret`` names the main client but is signed with another secret,
        ``alg-none`` names it unsigned (``alg: none``), ``expired`` is correctly signed but
        expired, and ``unknown-client`` is signed by a client the KIC does not know.
        Raises :class:`MissingCapability` for the narrow client when the run has none.
        """
        if auth in (None, "default") or auth == {"client": "default"}:
            return bearer(self.client_id, self.secret)
        if auth == "none":
            return None
        if auth == "invalid":
            return INVALID_TOKEN
        if auth == "wrong-secret":
            return bearer(self.client_id, self.secret + "-but-wrong")
        if auth == "alg-none":
            return bearer(self.client_id, self.secret, algorithm="none")
        if auth == "expired":
            made = time.time() - EXPIRED_AGO
            expired = {"exp": int(made + EXPIRED_AGO / 2)}
            return bearer(self.client_id, self.secret, issued_at=made, extra_claims=expired)
        if auth == "unknown-client":
            return bearer(UNKNOWN_CLIENT, self.secret)
        if isinstance(auth, dict) and auth.get("client") == "narrow":
            if self.narrow_client is None:
                raise MissingCapability("narrow-client")
            return bearer(*self.narrow_client)
        if isinstance(auth, dict) and "token" in auth:
            return f"Bearer {auth['token']}"
        raise ValueError(f"unknown auth {auth!r}")

    def available_capabilities(self) -> frozenset[str]:
        """What scenarios may ``require``: drc, zaken, second-drc, narrow-client."""
        if self.capabilities is not None:
            return self.capabilities
        caps = set()
        if self.drc_url:
            caps |= {"drc", "zaken"}
            if self.second_drc_url:
                caps.add("second-drc")
        if self.narrow_client:
            caps.add("narrow-client")
        return frozenset(caps)

    def reproduce_command(self, scenario_id: str) -> str:
        """A command line that re-runs one scenario the way this run ran it, ready to paste.

        Secrets are never written down: the command reads them from the environment variables
        the CLI reads them from anyway (:data:`SECRET_VARIABLES`; a call-back client other
        than the default from :data:`DRC_CALLBACK_VARIABLE`, as ID:SECRET, and so does
        ``embedded_drc`` for a DRC client other than the default), and a trailing shell comment
        names them. A demo run, or a run that started its mock DRC itself, is repeated by starting
        those servers again. A pytest plugin run (``option_prefix`` ``--kic-``) is repeated by
        ``pytest`` with the plugin's options, ``-k kic-conformance`` keeping the project's own
        tests out.
        """
        plugin = self.option_prefix != "--"
        options = [
            f"{self.option('scenarios')} {shlex.quote(str(p))}" for p in self.scenario_paths or []
        ]
        if self.spec_path:
            options.append(f"{self.option('spec')} {shlex.quote(str(self.spec_path))}")
        options.append(f"{self.option('id')} {shlex.quote(scenario_id)} {self.option('no-fuzz')}")
        if plugin:
            options.append("-k kic-conformance")
        if self.demo_defects is not None:
            if plugin:  # the plugin's demo has no defects
                return " ".join(["pytest --kic-demo", *options]) + (
                    "  # the demo's reference KIC and mock DRC are embedded: this starts them again"
                )
            defects = [f"--defect {shlex.quote(d)}" for d in self.demo_defects]
            return (
                " ".join(["kic-conformance demo", *defects, *options])
                + "  # the demo's reference KIC and mock DRC are embedded: this starts them again"
            )
        parts = ["pytest" if plugin else "kic-conformance run", *self._target_options()]
        notes = []
        if self.embedded_drc is not None:
            parts.extend(self.embedded_drc)
            notes.append("the mock DRC was embedded in the run: this starts it again")
        elif self.drc_url:
            parts.append(f"{self.option('drc-url')} {shlex.quote(self.drc_url)}")
            if self.second_drc_url:
                parts.append(f"{self.option('second-drc-url')} {shlex.quote(self.second_drc_url)}")
        if self._other_callback_client():
            parts.append(f'{self.option("drc-callback-client")} "${DRC_CALLBACK_VARIABLE}"')
        variables = list(dict.fromkeys(_VARIABLE_USE.findall(" ".join(parts))))
        secrets = " and ".join(
            f"${v}" + (" (ID:SECRET)" if v in (DRC_CLIENT_VARIABLE, DRC_CALLBACK_VARIABLE) else "")
            for v in variables
        )
        notes.insert(0, f"with your secrets in {secrets}")
        return " ".join([*parts, *options]) + "  # " + "; ".join(notes)

    def _target_options(self) -> list[str]:
        """The options of a reproduce line that reach the KIC: target, clients (their secrets
        as :data:`SECRET_VARIABLES`), TLS."""
        main_secret, narrow_secret = SECRET_VARIABLES
        parts = [
            f"{self.option('target')} {shlex.quote(self.target)}",
            f"{self.option('client-id')} {shlex.quote(self.client_id)}",
            f'{self.option("secret")} "${main_secret}"',
        ]
        if self.narrow_client:
            parts.append(
                f"{self.option('narrow-client-id')} {shlex.quote(self.narrow_client[0])} "
                f'{self.option("narrow-secret")} "${narrow_secret}"'
            )
        if self.tls_ca_bundle is not None:
            parts.append(f"{self.option('tls-ca-bundle')} {shlex.quote(str(self.tls_ca_bundle))}")
        if self.tls_insecure:
            parts.append(self.option("insecure"))
        return parts

    def _other_callback_client(self) -> bool:
        """True when a DRC of this run calls the KIC back with a client other than the
        default (a reproduce line must name it, or its pre-flight fails)."""
        has_drc = self.embedded_drc is not None or bool(self.drc_url)
        client = self.drc_callback_client
        return has_drc and client is not None and tuple(client) != DEFAULT_DRC_CALLBACK_CLIENT

    def describe(self) -> dict[str, Any]:
        """Settings worth keeping in a report (no secrets)."""
        return {
            "target": self.target,
            "client_id": self.client_id,
            "narrow_client_id": self.narrow_client[0] if self.narrow_client else None,
            "drc_url": self.drc_url,
            "second_drc_url": self.second_drc_url,
            "timeout": self.timeout,
            "max_body_bytes": self.max_body_bytes,
            "fuzz_examples": self.fuzz_examples,
            "fuzz_seed": self.fuzz_seed,
            "selection": self.selection.describe(),
            "spec_path": str(self.spec_path) if self.spec_path else None,
            "scenario_paths": [str(p) for p in self.scenario_paths or []],
            "demo_defects": list(self.demo_defects) if self.demo_defects is not None else None,
            "drc_embedded": self.demo_defects is not None or self.embedded_drc is not None,
            "tls_ca_bundle": str(self.tls_ca_bundle) if self.tls_ca_bundle else None,
            "tls_insecure": self.tls_insecure,
            "max_failures": self.max_failures,
        }
