"""``mock-drc``: the command line of the mock DRC.

``mock-drc serve --port N`` runs it under gunicorn with one worker process, so the state
stays in one process and consistent across threads. The worker reads requests on an event
loop and runs them on threads (:mod:`zgw.wsgi_front`): a slow or idle client holds no thread.
Without ``--client``, the mock trusts ``kic:kic-secret`` (every scope). Bad arguments give a
clear message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from mock_drc.app import create_app
from mock_drc.config import ALL_SCOPES, DEFAULT_CLIENT, DrcConfig
from mock_drc.fields import url_problem
from mock_drc.paths import CONTROL_ROOT, DOCUMENTS_ROOT, ZAKEN_ROOT
from mock_drc.store import DrcState
from zgw.jwt import Client
from zgw.serving import listen_problem


def _credentials(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError(f"expected CLIENT_ID:SECRET, got {value!r}")
    return client_id, secret


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, got {value!r}")
    return int(value)


def _threads(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"expected a thread count 1-256, got {value!r}")
    return int(value)


def _url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{value!r}: {problem}")
    return value.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-drc", description="A Documenten API (DRC) double for KIC conformance runs."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metadata.version('kic-conformance')}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the mock DRC with gunicorn")
    serve.add_argument("--port", type=_port, required=True, help="TCP port to listen on")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument(
        "--lenient",
        action="store_true",
        help="skip the call-back into the KIC on mirror create/delete",
    )
    serve.add_argument(
        "--accept-any-token",
        action="store_true",
        help="accept every request, with or without a valid JWT",
    )
    serve.add_argument(
        "--client",
        action="extend",
        nargs="+",
        type=_credentials,
        default=[],
        metavar="ID:SECRET",
        help="JWT clients the DRC trusts, with every scope (repeatable; "
        f"default {DEFAULT_CLIENT.client_id}:{DEFAULT_CLIENT.secret})",
    )
    serve.add_argument(
        "--callback-client",
        type=_credentials,
        metavar="ID:SECRET",
        default=("mock-drc", "mock-drc-secret"),
        help="credentials of the JWT sent when calling the KIC back "
        "(default mock-drc:mock-drc-secret)",
    )
    serve.add_argument(
        "--threads", type=_threads, default=8, help="threads per lane (reads, writes) (default 8)"
    )
    serve.add_argument(
        "--public-base-url",
        type=_url,
        metavar="URL",
        help="scheme and host used in URLs the DRC hands out (default: taken from each request)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> DrcConfig:
    clients = {cid: Client(cid, secret, ALL_SCOPES) for cid, secret in args.client}
    return DrcConfig(
        clients=clients or {DEFAULT_CLIENT.client_id: DEFAULT_CLIENT},
        accept_any_token=args.accept_any_token,
        strict=not args.lenient,
        callback_credentials=args.callback_client,
        public_base_url=args.public_base_url,
    )


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from gunicorn.app.base import BaseApplication

    problem = listen_problem(args.host, args.port)
    if problem:
        parser.exit(2, f"mock-drc: {problem}\n")  # one line, before gunicorn's bind retries
    config = config_from_args(args)
    app = create_app(config, DrcState())
    base = f"http://{args.host}:{args.port}"

    def announce(worker: Any) -> None:
        print(
            f"mock DRC ready at {base} (documents {base}{DOCUMENTS_ROOT}, "
            f"zaken {base}{ZAKEN_ROOT}, control {base}{CONTROL_ROOT}); strict={config.strict}",
            flush=True,
        )

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{args.host}:{args.port}",
                "workers": 1,
                "worker_class": "zgw.wsgi_front.FrontWorker",
                "threads": args.threads,
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
