"""``reference-kic``: run the reference KIC under gunicorn, or link documents from the shell.

``reference-kic serve --port 8000 --db /tmp/kic.db --config kic.yaml`` serves the API.
``reference-kic admin link|unlink --db /tmp/kic.db --config kic.yaml --verzoek URL
--informatieobject URL`` relates a document to a verzoek (or removes the relation) other than
through the API, along the same kic-001 path as the API (kic-001: "relations made elsewhere
MUST be synchronised too"): the DRC gets its mirror, or loses it, before the command ends.
``--profile vng`` answers like the VNG reference implementation (see profiles.py).
``--allowed-host kic`` (repeatable) lets clients reach it by a name such as a compose service's
(other Hosts get 400 ``host-not-allowed``; ``--public-base-url`` makes that unnecessary).
Configuration mistakes end with exit code 2 and one line naming the problem; a link or
unlink that is refused ends with exit code 1 and the reasons.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from gunicorn.app.base import BaseApplication

from zgw.errors import ApiError
from zgw.serving import listen_problem

from .config import ConfigError, KicConfig, parse_allowed_hosts, split_host
from .defects import DEFECTS
from .kinds import MIRRORED
from .profiles import PROFILES
from .remote import RemoteApis
from .service import KicService
from .storage import StorageError, Store
from .urls import API_PREFIX


class _GunicornServer(BaseApplication):
    """Gunicorn driven programmatically: every worker builds its own app from ``config``."""

    def __init__(self, config: KicConfig, options: dict[str, Any]) -> None:
        self.kic_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn lacks some (control_socket_disable)
                self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        return create_app(self.kic_config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reference-kic", description="The reference Klantinteracties API (KIC 1.0.0-rc1)."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metadata.version('kic-conformance')}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the KIC with gunicorn")
    serve.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    serve.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    # Each worker reads requests on an event loop and runs them on two lanes of threads,
    # reads and writes (zgw.wsgi_front): a DRC call-back always finds a read thread, however
    # many writes wait for the DRC. 4 per lane: more only add contention for the interpreter
    # lock (docs/reference-kic.md, "Serving model").
    serve.add_argument(
        "--threads", type=int, default=4, help="threads per lane (reads, writes) (default 4)"
    )
    serve.add_argument("--config", help="YAML/JSON file with clients and drc credentials")
    serve.add_argument("--public-base-url", help="e.g. http://kic.example/api/v1")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a Host the KIC may build its URLs from besides its own addresses (repeatable; "
        "host or host:port, e.g. a compose service name; added to the config file's "
        "allowed_hosts); other Hosts get 400 host-not-allowed. Not needed with "
        "--public-base-url",
    )
    serve.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="how to answer where the contract and the VNG reference differ: "
        + "; ".join(f"{p.name}: {p.description}" for p in PROFILES.values())
        + " (default: the config file's, else default)",
    )
    serve.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a deliberate defect (for testing the suite): " + ", ".join(DEFECTS),
    )
    admin = commands.add_parser(
        "admin", help="link or unlink a document and a verzoek (kic-001, like the API)"
    )
    actions = admin.add_subparsers(dest="action", required=True)
    for action, text in (
        ("link", "relate the document to the verzoek and mirror it in the document's DRC"),
        ("unlink", "remove the relation and its mirror in the DRC"),
    ):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("--db", required=True, help="the KIC's SQLite database file")
        sub.add_argument("--config", help="the KIC's YAML/JSON file (its drc credentials)")
        sub.add_argument(
            "--public-base-url",
            help="the KIC's API root (default: taken from the verzoek URL)",
        )
        sub.add_argument("--verzoek", required=True, metavar="URL", help="the verzoek's URL")
        sub.add_argument(
            "--informatieobject", required=True, metavar="URL", help="the document's URL"
        )
    return parser


def load_config(args: argparse.Namespace) -> KicConfig:
    overrides = {"db_path": args.db, "public_base_url": args.public_base_url}
    if args.config:
        config = KicConfig.from_file(args.config, **overrides)
    else:
        config = KicConfig.from_mapping({}, source="command line", **overrides)
    if getattr(args, "defect", None):
        # replace() re-runs the dataclass checks, so unknown names are refused here too.
        config = dataclasses.replace(config, defects=config.defects | set(args.defect))
    if getattr(args, "profile", None):
        config = dataclasses.replace(config, profile=args.profile)
    if getattr(args, "allowed_host", None):
        for host in args.allowed_host:  # name the value as the user typed it, not an index
            if split_host(host) is None:
                raise ConfigError(
                    f"--allowed-host {host!r}: not a host or host:port "
                    "(e.g. kic, kic:8000, kic.example.nl, [::1]:8000)"
                )
        hosts = parse_allowed_hosts(args.allowed_host, "--allowed-host")
        config = dataclasses.replace(config, allowed_hosts=config.allowed_hosts + hosts)
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "admin":
        return admin(args)
    if not 0 < args.port < 65536:
        print(f"reference-kic: --port {args.port} is not a TCP port", file=sys.stderr)
        return 2
    if args.workers < 1 or args.threads < 1:
        print("reference-kic: --workers and --threads must be at least 1", file=sys.stderr)
        return 2
    problem = listen_problem(args.host, args.port)
    if problem:  # one line now, instead of gunicorn retrying the bind for seconds
        print(f"reference-kic: {problem}", file=sys.stderr)
        return 2
    try:
        config = load_config(args)
        # Fail here, once, with a clear message rather than in every worker.
        Store(config.db_path)
    except (ConfigError, StorageError) as exc:
        print(f"reference-kic: {exc}", file=sys.stderr)
        return 2
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "zgw.wsgi_front.FrontWorker",
        "accesslog": None,
        "timeout": 60,
    }
    # gunicorn >= 25.1 opens a control socket at one fixed path per user; several KICs on one
    # machine (tests under xdist, a vendor's own set-up) would fight over it.
    options["control_socket_disable"] = True
    _GunicornServer(config, options).run()
    return 0


def admin(args: argparse.Namespace) -> int:
    """``admin link`` / ``admin unlink``: the kic-001 service, without the HTTP layer."""
    try:
        config = dataclasses.replace(load_config(args), reconcile_interval=0)
        store = Store(config.db_path)
    except (ConfigError, StorageError) as exc:
        print(f"reference-kic: {exc}", file=sys.stderr)
        return 2
    base = config.public_base_url or _api_root_of(args.verzoek, API_PREFIX)
    if base is None:
        print(
            f"reference-kic: --verzoek {args.verzoek!r} is not a verzoek URL of this KIC "
            f"(expected .../{API_PREFIX.strip('/')}/verzoeken/<uuid>)",
            file=sys.stderr,
        )
        return 2
    service = KicService(config, store, RemoteApis(config))
    body = {"verzoek": args.verzoek, "informatieobject": args.informatieobject}
    try:
        if args.action == "link":
            created = service.create(MIRRORED, body, base)
            print(f"linked: {base}/{MIRRORED.collection}/{created['uuid']}")
            return 0
        row = _relation(store, args.verzoek, args.informatieobject)
        if row is None:
            print("reference-kic: no such relation (nothing to unlink)", file=sys.stderr)
            return 1
        service.delete(MIRRORED, row, base)
        print(f"unlinked: {base}/{MIRRORED.collection}/{row}")
        return 0
    except ApiError as exc:
        reasons = [f"{p.name}: {p.reason} ({p.code})" for p in getattr(exc, "invalid_params", [])]
        print(f"reference-kic: {args.action} refused: {exc.detail}", file=sys.stderr)
        for reason in reasons:
            print(f"  {reason}", file=sys.stderr)
        return 1


def _api_root_of(verzoek_url: str, prefix: str) -> str | None:
    """The API root a verzoek URL lives under (``<scheme>://<host>/api/v1``), or None."""
    head, found, _ = verzoek_url.rpartition(f"{prefix}/verzoeken/")
    return f"{head}{prefix}" if found and head.startswith(("http://", "https://")) else None


def _relation(store: Store, verzoek_url: str, document_url: str) -> str | None:
    """The uuid of the visible relation of the verzoek URL and the document, if any."""
    verzoek = verzoek_url.rstrip("/").rsplit("/", 1)[-1]
    rows = store.list(MIRRORED.collection, {"verzoek": verzoek, "informatieobject": document_url})
    return rows[0]["uuid"] if rows else None


if __name__ == "__main__":
    sys.exit(main())
