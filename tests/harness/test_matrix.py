"""Matrix files (scenarios/auth/auth-matrix.yaml): one scenario per operation and variant,
validated by the format schema, errors naming the matrix file's line, stable ids, set-up
steps that are not under test, selection and reports like any other scenario; and the token
variants the harness builds for them (``auth: alg-none | expired | unknown-client``).

That the reference KIC passes every generated scenario is tests/harness/test_library.py's
whole-library run; that each fails on the KIC its ``proof:`` names is
tests/harness/test_broken_kics.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jwt as pyjwt
import pytest

from harness.cli import main
from harness.config import RunConfig, Selection
from harness.results import Level
from harness.scenarios import DEFAULT_LIBRARY, format_schema, lint, load_library
from harness.spec import load_spec
from reference_kic.auth import variant_of
from reference_kic.defects import TOKEN_VARIANTS
from zgw.jwt import Client, TokenRejected, verify_authorization

MATRIX = """\
matrix:
  operations:
    - klant_list
    - klant_read
    - klant_partial_update
  variants:
    no-token:
      auth: none
      title: without a token
      proof: {defect: auth-not-checked}
    narrow:
      auth: {client: narrow}
      title: by the narrow client
      operations: writes
      requires: [narrow-client]
id: auth-{variant}-{operation}
title: "{operation} {variant} is refused"
tags: [auth]
resources:
  klanten:
    create: {subjectType: natuurlijk_persoon, subject: "https://personen.example.com/p/{unique}"}
    partial_update: {achternaam: Anders}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auth" / "m.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    _write(tmp_path, text)
    _, problems = lint([tmp_path])
    return [str(p) for p in problems]


def test_a_matrix_gives_one_scenario_per_operation_and_variant(tmp_path: Path) -> None:
    path = _write(tmp_path, MATRIX)
    scenarios = load_library([tmp_path])
    assert [s.id for s in scenarios] == [
        "auth-no-token-klant-list",
        "auth-no-token-klant-read",
        "auth-no-token-klant-partial-update",
        "auth-narrow-klant-partial-update",  # ``operations: writes``: no GET for this variant
    ]
    assert all(s.generated and s.file == path and s.level is Level.MUST for s in scenarios)
    by_id = {s.id: s for s in scenarios}
    narrow = by_id["auth-narrow-klant-partial-update"]
    assert narrow.requires == ["narrow-client"]
    assert narrow.tags == ["auth", "narrow"]
    assert narrow.proof == ()
    assert by_id["auth-no-token-klant-list"].proof == ("auth-not-checked",)
    assert by_id["auth-no-token-klant-read"].title == "klant_read without a token is refused"
    # Each names its variant's line: where a report sends the reader.
    assert narrow.line == 11 and by_id["auth-no-token-klant-read"].line == 7


def test_ids_are_stable_whatever_the_order_of_operations(tmp_path: Path) -> None:
    first = {s.id: s.steps[-1].data for s in load_library([_write(tmp_path, MATRIX).parent])}
    swapped = MATRIX.replace("    - klant_list\n    - klant_read\n", "    - klant_read\n")
    swapped = swapped.replace(
        "    - klant_partial_update\n", "    - klant_partial_update\n    - klant_list\n"
    )
    second = {s.id: s.steps[-1].data for s in load_library([_write(tmp_path, swapped).parent])}
    assert first == second


def test_set_up_is_not_under_test_and_the_refusal_is(tmp_path: Path) -> None:
    _write(tmp_path, MATRIX)
    spec = load_spec()
    by_id = {s.id: s for s in load_library([tmp_path])}
    read = by_id["auth-no-token-klant-read"]
    create, tested = read.steps
    assert (create.data["call"], create.under_test) == ("klant_create", False)
    assert create.data["save"] == {"object": "$.url"}
    assert tested.under_test and tested.data["call"] == "klant_read"
    assert tested.data["auth"] == "none"
    assert tested.data["path"] == {"uuid": "{object|uuid}"}
    documented = spec.operation("klant_read").documented_statuses()
    assert tested.data["expect"]["status"] == sorted({403} | ({401} & set(documented)))
    assert read.operations_under_test == ["klant_read"]
    # The object is deleted afterwards, whatever the step under test did to it.
    [cleanup] = read.finally_steps
    assert cleanup.data["call"] == "klant_delete" and cleanup.cleanup
    # A list needs no object: the refused call is the only step.
    [only] = by_id["auth-no-token-klant-list"].steps
    assert only.under_test and only.data["call"] == "klant_list"
    assert by_id["auth-no-token-klant-list"].finally_steps == []
    patch = by_id["auth-narrow-klant-partial-update"].steps[-1]
    assert patch.data["body"] == {"achternaam": "Anders"}
    assert patch.data["auth"] == {"client": "narrow"}


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    - klant_read\n", "    - klant_lees\n", 4, "'klant_lees' is not an operationId"),
        ("      title: by the narrow client\n", "      colour: red\n", 11, "colour"),
        ("      auth: none\n", "      auth: sometimes\n", 8, "alg-none"),
        ("    partial_update: {achternaam: Anders}\n", "", 20, "needs its 'partial_update'"),
        ("    - klant_list\n", "    - verzoek_list\n", 19, "no entry for verzoeken"),
        (
            "      proof: {defect: auth-not-checked}\n",
            "      proof: {defect: a, defects: [b]}\n",
            10,
            "proof",
        ),
        ("resources:\n", "resource:\n", 1, "resource"),
    ],
)
def test_matrix_errors_name_file_and_line(tmp_path: Path, old, new, line, words) -> None:
    assert old in MATRIX
    problems = _problems(tmp_path, MATRIX.replace(old, new))
    assert problems, "the broken matrix loaded"
    assert any(
        p.startswith(f"{tmp_path / 'auth' / 'm.yaml'}:{line}:") and words in p for p in problems
    ), problems


def test_a_broken_set_up_step_names_its_line_in_the_matrix(tmp_path: Path) -> None:
    text = MATRIX + "    given:\n      - call: no_such_operation\n"
    problems = _problems(tmp_path, text)
    # Every generated scenario of klanten has it, but it is reported once, at its line.
    [problem] = [p for p in problems if "no_such_operation" in p]
    assert problem.split(":")[1] == "24", problems


@pytest.mark.parametrize(
    "proof",
    ["{defects: []}", "{defect: a, defects: [b]}", "{other: x}", "[a]", "{defect: 3}"],
)
def test_the_proof_key_is_checked(tmp_path: Path, proof: str) -> None:
    text = (
        f"id: x\ntitle: t\nrule: oas:verzoek_list\nproof: {proof}\nsteps:\n  - call: verzoek_list\n"
    )
    path = tmp_path / "verzoeken" / "x.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    _, problems = lint([tmp_path])
    assert [str(p) for p in problems if str(p).startswith(f"{path}:4:")], problems


def test_the_auth_matrix_covers_every_operation_with_every_variant() -> None:
    spec = load_spec()
    generated = [s for s in load_library() if s.generated]
    assert {Path(s.file).name for s in generated} == {"auth-matrix.yaml"}
    writes = [o for o, op in spec.operations.items() if op.method != "GET"]
    variants = [*TOKEN_VARIANTS, "narrow-client"]
    assert len(generated) == len(spec.operations) * len(TOKEN_VARIANTS) + len(writes)
    for variant in variants:
        covered = {s.operations_under_test[0] for s in generated if variant in s.tags}
        assert covered == (set(writes) if variant == "narrow-client" else set(spec.operations))
    assert [s.id for s in generated if not s.proof] == []
    assert [s.id for s in generated if len(s.operations_under_test) != 1] == []


def test_generated_scenarios_are_selected_like_others() -> None:
    library = load_library()
    assert [s.id for s in library if Selection(ids=["auth-alg-none-klant-read"]).selects(s)] == [
        "auth-alg-none-klant-read"
    ]
    tagged = [s for s in library if Selection(tags=["expired-token"]).selects(s)]
    assert len(tagged) == 38 and all(s.generated for s in tagged)
    by_rule = [
        s.id for s in library if Selection(tags=["auth"], operations=["verzoek_update"]).selects(s)
    ]
    assert "auth-narrow-client-verzoek-update" in by_rule


@pytest.mark.slow
def test_a_generated_scenario_runs_and_reports_like_others(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    ids = ["auth-alg-none-verzoek-delete", "auth-unknown-client-klant-create"]
    argv = ["demo", "--no-fuzz", "--json", str(report)]
    for scenario_id in ids:
        argv += ["--id", scenario_id]
    assert main(argv) == 3  # NO FAILURES (incomplete): a selection
    body = json.loads(report.read_text(encoding="utf-8"))
    cases = {c["id"]: c for c in body["cases"]}
    assert sorted(cases) == sorted(ids)
    matrix = DEFAULT_LIBRARY / "auth" / "auth-matrix.yaml"
    for case in cases.values():
        assert case["outcome"] == "passed"
        assert case["source"].startswith(f"{matrix}:")


# --------------------------------------------------------------------------- token variants

CLIENTS = {"main": Client("main", "main-secret-0123456789-0123456789", frozenset({"x"}))}


@pytest.mark.parametrize(
    ("auth", "code", "variant"),
    [
        ("none", "permission_denied", "no-token"),
        ("invalid", "jwt-decode-error", "invalid-token"),
        ("alg-none", "invalid-jwt-signature", "alg-none"),
        ("wrong-secret", "invalid-jwt-signature", "wrong-secret"),
        ("expired", "jwt-expired", "expired-token"),
        ("unknown-client", "invalid-client-identifier", "unknown-client"),
    ],
)
def test_every_token_variant_is_refused_for_its_own_reason(auth, code, variant) -> None:
    config = RunConfig(
        target="http://kic.example/api/v1", client_id="main", secret=CLIENTS["main"].secret
    )
    value = config.authorization(auth)
    with pytest.raises(TokenRejected) as caught:
        verify_authorization(value, CLIENTS)
    assert caught.value.code == code
    # The reference KIC's accept-token:<variant> defect tells the same kinds apart.
    assert variant_of(value, caught.value) == variant
    assert variant in TOKEN_VARIANTS


def test_the_variant_tokens_say_what_they_are() -> None:
    config = RunConfig(
        target="http://kic.example/api/v1", client_id="main", secret=CLIENTS["main"].secret
    )
    unsigned = config.authorization("alg-none").removeprefix("Bearer ")
    assert pyjwt.get_unverified_header(unsigned)["alg"] == "none"
    expired = pyjwt.decode(
        config.authorization("expired").removeprefix("Bearer "), options={"verify_signature": False}
    )
    assert expired["exp"] < expired["iat"] + 3600 * 2 and expired["client_id"] == "main"
    unknown = pyjwt.decode(
        config.authorization("unknown-client").removeprefix("Bearer "),
        options={"verify_signature": False},
    )
    assert unknown["client_id"] not in CLIENTS
    # The default token is accepted: the variants differ from it in one way each.
    assert verify_authorization(config.authorization("default"), CLIENTS).client_id == "main"


def test_the_schema_lists_the_auth_words_the_harness_builds() -> None:
    words = format_schema()["definitions"]["auth"]["oneOf"][0]["enum"]
    config = RunConfig(
        target="http://kic.example/api/v1", client_id="main", secret=CLIENTS["main"].secret
    )
    for word in words:
        config.authorization(word)  # every one is built (none of them raises)
