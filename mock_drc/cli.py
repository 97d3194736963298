"""``mock-drc``: the command line of the mock DRC.

``mock-drc serve --port N`` runs it under gunicorn with one worker process, so the state
stays in one process and consistent across threads. The worker reads requests on an event
loop and runs them on threads (:mod:`zgw.wsgi_front`): a slow or idle client holds no thread.
Without ``--client``, the mock trusts ``kic:kic-secret`` (every scope).

Every option of ``serve`` (:data:`OPTIONS`) can also come from an environment variable
``MOCK_DRC_<NAME>`` (``MOCK_DRC_CLIENT``) or a key of a TOML config file (``--config FILE``,
or ``MOCK_DRC_CONFIG``, or ``mock-drc.toml`` in the current folder), read as
``kic-conformance`` reads its own (:mod:`zgw.settings`): the command line wins over the
environment, the environment over the file. So a secret need not be on the command line,
where ``ps`` shows it. Bad arguments or values give a clear message naming their source and
exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from mock_drc.app import create_app
from mock_drc.config import ALL_SCOPES, DEFAULT_CLIENT, DrcConfig
from mock_drc.fields import url_problem
from mock_drc.paths import CONTROL_ROOT, DOCUMENTS_ROOT, ZAKEN_ROOT
from mock_drc.store import DrcState
from zgw.jwt import Client
from zgw.serving import listen_problem
from zgw.settings import Option, SettingsError, argparse_type, find_config, pick, read_config

ENV_PREFIX = "MOCK_DRC_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
CONFIG_FILE = "mock-drc.toml"


def _credentials(value: str) -> tuple[str, str]:
    # The message says what is missing without echoing the value: it may be a secret
    # mistyped, and the message goes to a CI log.
    client_id, sep, secret = value.partition(":")
    if not sep:
        raise ValueError("expected CLIENT_ID:SECRET, got a value without ':'")
    if not client_id:
        raise ValueError("expected CLIENT_ID:SECRET, got no client id before the ':'")
    if not secret:
        raise ValueError(f"expected CLIENT_ID:SECRET, got no secret after {client_id!r}:")
    return client_id, secret


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"expected a port number 1-65535, got {value!r}")
    return int(value)


def _threads(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise ValueError(f"expected a thread count 1-256, got {value!r}")
    return int(value)


def _url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(f"{value!r}: {problem}")
    return value.rstrip("/")


def _option(name: str, help: str, *args: Any, **kwargs: Any) -> Option:
    return Option(name, help, *args, env_prefix=ENV_PREFIX, **kwargs)


#: The options of ``serve``; their long name is also the config file's key.
OPTIONS: tuple[Option, ...] = (
    _option("port", "TCP port to listen on (required)", _port, metavar="PORT"),
    _option("host", "interface (default 127.0.0.1)", default="127.0.0.1", metavar="HOST"),
    _option("lenient", "skip the call-back into the KIC on mirror create/delete", switch=True,
            default=False),
    _option("accept-any-token", "accept every request, with or without a valid JWT",
            switch=True, default=False),
    _option("client", "JWT clients the DRC trusts, with every scope (repeatable; "
            f"default {DEFAULT_CLIENT.client_id}:{DEFAULT_CLIENT.secret}; in the environment "
            "comma-separated)", _credentials, many=True, metavar="ID:SECRET"),
    _option("callback-client", "credentials of the JWT sent when calling the KIC back "
            "(default mock-drc:mock-drc-secret)", _credentials,
            default=("mock-drc", "mock-drc-secret"), metavar="ID:SECRET"),
    _option("threads", "threads per lane (reads, writes) (default 8)", _threads, default=8,
            metavar="N"),
    _option("public-base-url", "scheme and host used in URLs the DRC hands out (default: "
            "taken from each request)", _url, metavar="URL"),
)  # fmt: skip
BY_NAME = {option.name: option for option in OPTIONS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-drc", description="A Documenten API (DRC) double for KIC conformance runs."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metadata.version('kic-conformance')}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the mock DRC with gunicorn",
        epilog="Every option can also be set by the environment variable named in its help, "
        f"or as a key of a TOML config file (--config FILE, or {CONFIG_ENV}, or "
        f'./{CONFIG_FILE}), e.g. client = ["kic:${{KIC_DRC_SECRET}}"], where ${{VAR}} is '
        "replaced by that environment variable. The command line wins over the environment, "
        "the environment over the file.",
    )
    serve.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"read options from this TOML file (default ./{CONFIG_FILE} when present) "
        f"[env {CONFIG_ENV}]",
    )
    for option in OPTIONS:
        help_text = f"{option.help} [env {option.env}]"
        # Every default is None, so settings() can tell what the command line left open.
        if option.switch:
            serve.add_argument(
                f"--{option.name}", action="store_true", default=None, help=help_text
            )
        else:
            serve.add_argument(
                f"--{option.name}",
                type=argparse_type(option),
                action="extend" if option.many else "store",
                nargs="+" if option.many else None,
                default=None,
                metavar=option.metavar,
                help=help_text,
            )
    return parser


def settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every option of ``serve`` by dest: the command line (``args``), else the environment,
    else the config file, else the default; ``config_file`` is the file read (or None).
    Raises :class:`SettingsError` naming the option and the source of a bad value."""
    environ = os.environ if environ is None else environ
    found = find_config(args.config, environ, env_name=CONFIG_ENV, default_name=CONFIG_FILE)
    file_values = read_config(found, BY_NAME, environ) if found else {}
    values = {o.dest: pick(o, getattr(args, o.dest), environ, file_values) for o in OPTIONS}
    if values["port"] is None:
        port = BY_NAME["port"]
        raise SettingsError(
            f"missing --port (or the environment variable {port.env}, or the key port in "
            "the config file)"
        )
    values["config_file"] = str(found) if found else None
    return values


def config_from_settings(values: Mapping[str, Any]) -> DrcConfig:
    """The DRC's configuration from the values of :func:`settings`."""
    clients = {cid: Client(cid, secret, ALL_SCOPES) for cid, secret in values["client"]}
    return DrcConfig(
        clients=clients or {DEFAULT_CLIENT.client_id: DEFAULT_CLIENT},
        accept_any_token=values["accept_any_token"],
        strict=not values["lenient"],
        callback_credentials=values["callback_client"],
        public_base_url=values["public_base_url"],
    )


def config_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> DrcConfig:
    """The DRC's configuration from the command line, the environment and the config file."""
    return config_from_settings(settings(args, environ))


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from gunicorn.app.base import BaseApplication

    try:
        values = settings(args)
    except SettingsError as exc:
        parser.exit(2, f"mock-drc serve: {exc}\n")
    host, port = values["host"], values["port"]
    problem = listen_problem(host, port)
    if problem:
        parser.exit(2, f"mock-drc: {problem}\n")  # one line, before gunicorn's bind retries
    config = config_from_settings(values)
    app = create_app(config, DrcState())
    base = f"http://{host}:{port}"
    # Which file the options came from, since ./mock-drc.toml is read without being named.
    source = f"; options from {values['config_file']}" if values["config_file"] else ""

    def announce(worker: Any) -> None:
        print(
            f"mock DRC ready at {base} (documents {base}{DOCUMENTS_ROOT}, "
            f"zaken {base}{ZAKEN_ROOT}, control {base}{CONTROL_ROOT}); "
            f"strict={config.strict}{source}",
            flush=True,
        )

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "zgw.wsgi_front.FrontWorker",
                "threads": values["threads"],
                "graceful_timeout": 3,
                "post_worker_init": announce,
                "errorlog": "-",
            }
            # gunicorn >= 25.1 opens a control socket at one fixed path per user; parallel
            # servers (tests under xdist) would fight over it, and nothing here needs it.
            if "control_socket_disable" in self.cfg.settings:
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    _Gunicorn().run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args, parser)
    parser.error(f"unknown command {args.command!r}")  # argparse already refuses; kept for clarity
    return 2


if __name__ == "__main__":
    sys.exit(main())
