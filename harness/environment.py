"""The servers a run can start in-process; the only harness module that imports a server.

:func:`embedded_environment` starts two mock DRCs and a reference KIC (temporary SQLite file)
on free loopback ports, gives each the other's credentials, and yields a ready
:class:`~harness.config.RunConfig` (the second DRC serves the scenarios with documents of two
DRCs). The ``demo`` command and the project's tests use it; its
``defects`` argument switches the KIC into a deliberately broken variant
(:func:`checked_defects`). :func:`served_mock_drc` starts the mock DRC alone, where a vendor's
KIC can reach it (``kic-conformance run --drc-host``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.config import RunConfig
from zgw.jwt import Client
from zgw.serving import serve_in_thread

#: Credentials of the embedded set-up (local, throw-away, never secrets of anything real).
MAIN_CLIENT = ("kic-conformance", "kic-conformance-demo-secret-0123456789")
NARROW_CLIENT = ("kic-conformance-narrow", "kic-conformance-narrow-demo-secret-0123")
KIC_TO_DRC = ("reference-kic", "reference-kic-demo-secret-0123456789abc")
DRC_CALLBACK = ("mock-drc", "mock-drc-callback-demo-secret-0123456789")
READ_SCOPE = "klanten.lezen"
#: How long the embedded KIC waits for a DRC (its ``http_timeout``). Short, so a scenario whose
#: DRC answers only after the KIC gave up (``kic-001-drc-timeout-on-create``) costs little,
#: and still far above what a loopback mirror POST with its call-back takes.
KIC_DRC_TIMEOUT = 3.0


def known_defects() -> frozenset[str]:
    """The names of the reference KIC's deliberately broken variants (a family's as
    ``name:PARAMETER``; :func:`checked_defects` checks a family's value too)."""
    from reference_kic.config import DEFECTS

    return frozenset(DEFECTS)


def checked_defects(names: Iterable[str]) -> frozenset[str]:
    """``names`` as defects of the reference KIC (a family's too: ``accept-token:alg-none``);
    ValueError naming the unknown ones and the valid names otherwise."""
    from reference_kic.defects import Defects

    return frozenset(Defects(names))


@dataclass(frozen=True)
class MockDrcOptions:
    """How to serve the mock DRC for a vendor's KIC (``run --drc-host/--drc-port``)."""

    host: str
    port: int
    client: tuple[str, str]  # the credentials the KIC uses at the DRC
    callback_client: tuple[str, str]  # the credentials the DRC uses to call the KIC back
    accept_any_token: bool = False
    strict: bool = True  # call the KIC back (kic-001 ordering)
    public_url: str | None = None  # where the KIC reaches it, when not http://HOST:PORT


@dataclass(frozen=True)
class ServedDrc:
    """A running mock DRC: ``url`` as it listens, ``local_url`` for the harness itself, and
    ``public_url``, the base its document URLs carry (what the KIC uses)."""

    url: str
    local_url: str
    public_url: str


@contextlib.contextmanager
def served_mock_drc(options: MockDrcOptions) -> Iterator[ServedDrc]:
    """Serve the mock DRC for the duration of the block; OSError when it cannot listen."""
    from mock_drc.config import ALL_SCOPES, DrcConfig
    from mock_drc.testing import running_mock_drc

    client_id, secret = options.client
    config = DrcConfig(
        clients={client_id: Client(client_id, secret, frozenset(ALL_SCOPES))},
        accept_any_token=options.accept_any_token,
        strict=options.strict,
        callback_credentials=options.callback_client,
        public_base_url=options.public_url,
    )
    with running_mock_drc(config, host=options.host, port=options.port) as drc:
        # Listening on every interface: the harness itself talks to it over loopback.
        local = drc.url.replace("0.0.0.0", "127.0.0.1")
        yield ServedDrc(drc.url, local, options.public_url or drc.url)


@contextlib.contextmanager
def embedded_environment(
    *,
    defects: frozenset[str] = frozenset(),
    strict: bool = True,
    fuzz_examples: int = 25,
    host: str = "127.0.0.1",
    profile: str = "default",
) -> Iterator[RunConfig]:
    """Run the mock DRC and the reference KIC for the duration of the block.

    ``profile`` is the reference KIC's answer profile (``vng``: answers like the VNG reference
    implementation, see reference_kic/profiles.py).
    """
    from mock_drc.config import ALL_SCOPES as DRC_SCOPES
    from mock_drc.config import DrcConfig
    from mock_drc.testing import running_mock_drc
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES as KIC_SCOPES
    from reference_kic.config import DrcCredential, KicConfig

    drc_config = DrcConfig(
        clients={KIC_TO_DRC[0]: Client(*KIC_TO_DRC, frozenset(DRC_SCOPES))},
        strict=strict,
        callback_credentials=DRC_CALLBACK,
    )
    with contextlib.ExitStack() as stack:
        drc = stack.enter_context(running_mock_drc(drc_config, host=host))
        second_drc = stack.enter_context(running_mock_drc(drc_config, host=host))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kic-demo-")))
        kic_config = KicConfig(
            db_path=str(folder / "kic.sqlite3"),
            clients={
                MAIN_CLIENT[0]: Client(*MAIN_CLIENT, frozenset(KIC_SCOPES)),
                NARROW_CLIENT[0]: Client(*NARROW_CLIENT, frozenset({READ_SCOPE})),
                DRC_CALLBACK[0]: Client(*DRC_CALLBACK, frozenset({READ_SCOPE})),
            },
            drc_credentials=[
                DrcCredential(drc.url + "/", *KIC_TO_DRC),
                DrcCredential(second_drc.url + "/", *KIC_TO_DRC),
            ],
            http_timeout=KIC_DRC_TIMEOUT,
            defects=frozenset(defects),
            profile=profile,
        )
        kic = stack.enter_context(serve_in_thread(create_app(kic_config), host))
        yield RunConfig(
            target=f"{kic.url}/api/v1",
            client_id=MAIN_CLIENT[0],
            secret=MAIN_CLIENT[1],
            narrow_client=NARROW_CLIENT,
            drc_url=drc.url,
            second_drc_url=second_drc.url,
            drc_callback_client=DRC_CALLBACK,
            fuzz_examples=fuzz_examples,
            demo_defects=tuple(sorted(defects)),
        )
