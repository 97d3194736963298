"""End to end: a small scenario subset against the embedded reference KIC and mock DRC, the
correct one and a broken one, through the same runner the CLI and the plugin use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.environment import embedded_environment
from harness.results import Outcome
from harness.runner import run
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
  - call: verzoekinformatieobject_list
    query: {verzoek: "{verzoek}"}
    expect: {status: 200, body: !len 0}
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
    assert result.verdict == "CONFORMANT", details
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
        result = run(config, scenarios=library)
    assert result.verdict == "NOT CONFORMANT"
    failed = {c.id for c in result.cases if c.outcome is Outcome.FAILED}
    assert caught_by in failed
