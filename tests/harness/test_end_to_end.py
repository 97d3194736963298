"""End to end: a small scenario subset against the embedded reference KIC and mock DRC, the
correct one and a broken one, through the same runner the CLI and the plugin use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.environment import embedded_environment
from harness.results import Outcome
from harness.run import run
from harness.scenarios import load_library

pytestmark = pytest.mark.slow

MIRROR = """\
id: e2e-vio-create-mirrors
title: Creating a verzoekinformatieobject mirrors it in the DRC
rule: kic-001
requires: [drc]
vars: {bron: "000000000"}
steps:
  - drc: create_document
    save: {doc: $.url}
  - call: verzoek_create
    body: {bronorganisatie: "{bron}", status: ontvangen}
    expect:
      status: 201
      headers: {Location: !anyurl }
      body: {identificatie: !regex 'VERZOEK-\\d{4}-\\d{10}'}
    save: {verzoek: $.url}
  - call: verzoekinformatieobject_create
    body: {verzoek: "{verzoek}", informatieobject: "{doc}"}
    expect: {status: 201, body: {verzoek: "{verzoek}", informatieobject: "{doc}"}}
    save: {vio: $.url}
  - drc_expect:
      received: {method: POST, path: objectinformatieobjecten,
                 json: {informatieobject: "{doc}", objectType: verzoek}}
      mirrors: {contains: {informatieobject: "{doc}", objectType: verzoek}}
  - call: verzoekinformatieobject_delete
    path: {uuid: "{vio|uuid}"}
    expect: {status: 204}
  - drc_expect:
      mirrors: {not_contains: {informatieobject: "{doc}"}}
finally:
  - call: verzoek_delete
    path: {uuid: "{verzoek|uuid}"}
"""

DRC_DOWN = """\
id: e2e-vio-drc-failing
title: When the DRC refuses the mirror, the relation is not kept
rule: kic-001
requires: [drc]
steps:
  - drc: create_document
    save: {doc: $.url}
  - call: verzoek_create
    body: {bronorganisatie: "000000000", status: ontvangen}
    save: {verzoek: $.url}
  - drc: fault
    method: POST
    path: objectinformatieobjecten
    status: 500
    count: 1
  - call: verzoekinformatieobject_create
    body: {verzoek: "{verzoek}", informatieobject: "{doc}"}
    expect: {status: 400}
    under_test: true
  - call: verzoekinformatieobject_list
    query: {verzoek: "{verzoek}"}
    expect: {status: 200, body: !len 0}
    under_test: true
finally:
  - drc: clear_faults
  - call: verzoek_delete
    path: {uuid: "{verzoek|uuid}"}
"""

NARROW = """\
id: e2e-narrow-cannot-create
title: A read-only client cannot create a klant
rule: oas:klant_create
requires: [narrow-client]
steps:
  - call: klant_create
    auth: {client: narrow}
    body: {subjectType: natuurlijk_persoon, subject: "http://example.com/p/1"}
    expect: {status: [401, 403]}
  - call: klant_list
    auth: none
    expect: {status: [401, 403]}
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("e2e") / "verzoekinformatieobjecten"
    folder.mkdir()
    for name, text in (("mirror", MIRROR), ("drc-down", DRC_DOWN), ("narrow", NARROW)):
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_library([folder.parent])


def test_the_reference_kic_is_conformant(library) -> None:
    with embedded_environment(fuzz_examples=0) as config:
        result = run(config, scenarios=library)
    details = {
        c.id: [f"{k.name}: {k.message}" for k in c.failed_checks()] or c.error for c in result.cases
    }
    assert result.verdict_state == "NO FAILURES", details  # own scenarios: never more
    assert all(c.outcome is Outcome.PASSED for c in result.cases), details
    assert result.observed_statuses["verzoekinformatieobject_create"][201] == 1
    assert result.observed_statuses["verzoekinformatieobject_create"][400] == 1


@pytest.mark.parametrize(
    ("defect", "caught_by"),
    [
        ("mirror-skipped", "e2e-vio-create-mirrors"),
        ("scope-not-enforced", "e2e-narrow-cannot-create"),
    ],
)
def test_a_broken_kic_is_caught_by_the_intended_scenario(library, defect, caught_by) -> None:
    with embedded_environment(defects=frozenset({defect}), fuzz_examples=0) as config:
        # The pre-flight stops scope-not-enforced first (tests/harness/test_preflight.py).
        result = run(config, scenarios=library, preflight=False)
    assert result.verdict == "NOT CONFORMANT"
    failed = {c.id for c in result.cases if c.outcome is Outcome.FAILED}
    assert caught_by in failed


def test_the_vendor_path_with_an_in_process_drc(tmp_path: Path, capsys) -> None:
    """`run --drc-host/--drc-port`: a KIC configured as docs/vendor-guide.md says is conformant."""
    from harness.cli import main
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig
    from zgw.jwt import Client
    from zgw.serving import free_port, serve_in_thread

    port = free_port()
    vendor = ("vendor-suite", "vendor-suite-secret-0123456789abcdefgh")
    to_drc = ("vendor-kic", "vendor-kic-drc-secret-0123456789abcdefg")
    callback = ("drc-callback", "drc-callback-secret-0123456789abcdefgh")
    config = KicConfig(
        db_path=str(tmp_path / "vendor.sqlite3"),
        clients={
            vendor[0]: Client(*vendor, ALL_SCOPES),
            callback[0]: Client(*callback, frozenset({"klanten.lezen"})),
        },
        drc_credentials=[DrcCredential(f"http://127.0.0.1:{port}/", *to_drc)],
    )
    folder = tmp_path / "scenarios" / "kic-001"
    folder.mkdir(parents=True)
    (folder / "mirror.yaml").write_text(textwrap.dedent(MIRROR), encoding="utf-8")
    with serve_in_thread(create_app(config)) as kic:
        code = main(
            [
                "run",
                "--target",
                f"{kic.url}/api/v1",
                "--client-id",
                vendor[0],
                "--secret",
                vendor[1],
                "--drc-host",
                "127.0.0.1",
                "--drc-port",
                str(port),
                "--drc-client",
                ":".join(to_drc),
                "--drc-callback-client",
                ":".join(callback),
                "--scenarios",
                str(folder.parent),
                "--no-fuzz",
            ]
        )
    out = capsys.readouterr().out
    assert code == 3, out  # no failures; own scenarios, no narrow client, no fuzzing
    assert "NO FAILURES (incomplete: no narrow client" in out and vendor[1] not in out
    assert "mode: DRC strict (calls the KIC back), checks tokens;" in out
