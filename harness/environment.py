"""The embedded environment: the reference KIC and the mock DRC in-process, wired both ways.

:func:`embedded_environment` starts a mock DRC and a reference KIC (temporary SQLite file) on
free loopback ports, gives each the other's credentials, and yields a ready
:class:`~harness.config.RunConfig`. The ``demo`` command and the project's tests use it; its
``defects`` argument switches the KIC into a deliberately broken variant.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def embedded_environment(
    *,
    defects: frozenset[str] = frozenset(),
    strict: bool = True,
    fuzz_examples: int = 25,
    host: str = "127.0.0.1",
) -> Iterator[RunConfig]:
    """Run the mock DRC and the reference KIC for the duration of the block."""
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
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kic-demo-")))
        kic_config = KicConfig(
            db_path=str(folder / "kic.sqlite3"),
            clients={
                MAIN_CLIENT[0]: Client(*MAIN_CLIENT, frozenset(KIC_SCOPES)),
                NARROW_CLIENT[0]: Client(*NARROW_CLIENT, frozenset({READ_SCOPE})),
                DRC_CALLBACK[0]: Client(*DRC_CALLBACK, frozenset({READ_SCOPE})),
            },
            drc_credentials=[DrcCredential(drc.url, *KIC_TO_DRC)],
            defects=frozenset(defects),
        )
        kic = stack.enter_context(serve_in_thread(create_app(kic_config), host))
        yield RunConfig(
            target=f"{kic.url}/api/v1",
            client_id=MAIN_CLIENT[0],
            secret=MAIN_CLIENT[1],
            narrow_client=NARROW_CLIENT,
            drc_url=drc.url,
            fuzz_examples=fuzz_examples,
        )
