"""Call-back starvation (issue 12, item 4): a KIC write that holds a worker while the strict
mock DRC calls the KIC back needs a second worker for the call-back.

- The reference KIC under gunicorn with 2 workers x 1 thread, at the harness's default options
  (4 scenarios at once, 10 s per request): the kic-001 scenarios take their turns one at a
  time (harness.scheduling), so nothing times out and they pass.
- With 1 worker x 1 thread every call-back starves: the failure says so, from the DRC's
  journal, and names what to change.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import RunConfig, Selection
from harness.environment import DRC_CALLBACK, KIC_TO_DRC, MAIN_CLIENT, NARROW_CLIENT
from harness.results import Level, Outcome
from harness.run import run
from harness.scenarios import load_library
from mock_drc.config import ALL_SCOPES, DrcConfig
from mock_drc.testing import running_mock_drc
from zgw.jwt import Client
from zgw.serving import serve_in_process

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def gunicorn_kic_and_drc(
    folder: Path, *, workers: int, threads: int, callback_timeout: float = 10.0
) -> Iterator[RunConfig]:
    """A mock DRC in-process and the reference KIC under plain gunicorn gthread workers
    (``workers`` x ``threads``)."""
    drc_config = DrcConfig(
        clients={KIC_TO_DRC[0]: Client(*KIC_TO_DRC, frozenset(ALL_SCOPES))},
        callback_credentials=DRC_CALLBACK,
        callback_timeout=callback_timeout,
    )
    with running_mock_drc(drc_config) as drc:
        kic_config = folder / "kic.json"
        kic_config.write_text(
            json.dumps(
                {
                    "clients": {
                        MAIN_CLIENT[0]: {"secret": MAIN_CLIENT[1], "scopes": "all"},
                        NARROW_CLIENT[0]: {"secret": NARROW_CLIENT[1], "scopes": ["klanten.lezen"]},
                        DRC_CALLBACK[0]: {"secret": DRC_CALLBACK[1], "scopes": ["klanten.lezen"]},
                    },
                    "drc": [
                        {
                            "api_root": drc.url + "/",
                            "client_id": KIC_TO_DRC[0],
                            "secret": KIC_TO_DRC[1],
                        }
                    ],
                }
            )
        )

        # Plain gunicorn gthread workers, as a synchronous vendor KIC (or the VNG reference)
        # is served: `reference-kic serve` has its own serving model, which does not starve.
        def command(port: int) -> list[str]:
            return [
                sys.executable, "-m", "gunicorn", "--worker-class", "gthread",
                "--workers", str(workers), "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}", "reference_kic.app:get_app()",
            ]  # fmt: skip

        env = {
            **os.environ,
            "KIC_DB": str(folder / "kic.sqlite3"),
            "KIC_CONFIG": str(kic_config),
        }
        with serve_in_process(
            "reference-kic", command, folder, ready_path="/api/v1/", env=env
        ) as kic:
            yield RunConfig(
                target=f"{kic.url}/api/v1",
                client_id=MAIN_CLIENT[0],
                secret=MAIN_CLIENT[1],
                narrow_client=NARROW_CLIENT,
                drc_url=drc.url,
                drc_callback_client=DRC_CALLBACK,
                fuzz_examples=0,
                selection=Selection(tags=["kic-001"]),
            )


def test_two_synchronous_workers_at_default_options_pass_or_name_the_starvation(
    tmp_path: Path,
) -> None:
    """kic-001 scenarios never run at the same time, so two of them cannot hold both workers.
    A gthread worker with one thread may still accept the call-back of its own write and queue
    it behind that write: then the failure must say so (the issue allows either outcome)."""
    with gunicorn_kic_and_drc(tmp_path, workers=2, threads=1) as config:
        assert config.workers == 4 and config.timeout == 10.0  # the harness's defaults
        result = run(config)
    kic_001 = [s for s in load_library() if "kic-001" in s.tags]
    assert result.aborted is None and len(result.cases) == len(kic_001)
    unexplained = {
        case.id: [k.message for k in case.failed_checks()] or case.error
        for case in result.cases
        if case.outcome in (Outcome.FAILED, Outcome.ERROR)
        and not any(k.name == "drc call-back" and "starvation" in k.message for k in case.checks)
    }
    assert unexplained == {}


def test_a_starved_call_back_is_named_with_what_to_change(tmp_path: Path) -> None:
    with gunicorn_kic_and_drc(tmp_path, workers=1, threads=1, callback_timeout=2) as config:
        config.selection = Selection(ids=["kic-001-create-mirrors"])
        result = run(config)
    [case] = result.cases
    assert case.outcome is Outcome.FAILED
    [diagnosis] = [c for c in case.checks if c.name == "drc call-back"]
    assert diagnosis.level is Level.MUST and not diagnosis.passed
    assert "failed: unreachable" in diagnosis.message
    assert "call-back starvation" in diagnosis.message
    assert "more threads per worker" in diagnosis.message and "--workers 1" in diagnosis.message
    assert diagnosis.exchange_index is not None
    assert case.exchanges[diagnosis.exchange_index].url.endswith("/verzoekinformatieobjecten")
