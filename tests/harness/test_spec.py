"""harness.spec: one parse of the contract, and OpenAPI 3.0 aware response validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec import SpecError, load_spec

MINI = """
openapi: 3.0.0
info: {title: mini, version: 9.9.9}
paths:
  /things/{uuid}:
    parameters:
      - {name: uuid, in: path, required: true, schema: {type: string}}
    get:
      operationId: thing_read
      parameters:
        - {$ref: '#/components/parameters/If-None-Match'}
      responses:
        '200':
          description: ok
          headers:
            ETag: {required: true, schema: {type: string}}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        '404': {$ref: '#/components/responses/NotFound'}
    delete:
      operationId: thing_delete
      responses:
        '204': {description: gone}
components:
  parameters:
    If-None-Match: {name: If-None-Match, in: header, schema: {type: string}}
  responses:
    NotFound:
      description: nope
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Fout'}
  schemas:
    Fout:
      type: object
      required: [code]
      properties: {code: {type: string}}
    Thing:
      type: object
      required: [url, name]
      properties:
        url: {type: string, readOnly: true}
        name: {type: string, nullable: true}
        kind: {type: string, enum: [a, b], nullable: true}
        secret: {type: string, writeOnly: true}
        owner: {$ref: '#/components/schemas/Owner'}
    Owner:
      type: object
      nullable: true
      properties: {naam: {type: string, maxLength: 3}}
"""


@pytest.fixture()
def mini(tmp_path: Path):
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    return load_spec(path)


def test_operations_carry_method_path_parameters_and_responses(mini) -> None:
    op = mini.operation("thing_read")
    assert (op.method, op.path) == ("GET", "/things/{uuid}")
    assert {p.name for p in op.parameters} == {"uuid", "If-None-Match"}
    assert op.documented_statuses() == [200, 404]
    assert mini.version == "9.9.9"
    assert mini.find_operation("DELETE", "/things/abc").operation_id == "thing_delete"


def test_load_spec_parses_once(tmp_path: Path) -> None:
    path = tmp_path / "once.yaml"
    path.write_text(MINI, encoding="utf-8")
    assert load_spec(path) is load_spec(str(path))


def test_valid_response_with_nullable_readonly_and_ref(mini) -> None:
    body = {"url": "u", "name": None, "kind": None, "owner": None}
    assert mini.validate_response("thing_read", 200, {"ETag": '"1"'}, body) == []
    assert mini.validate_response("thing_read", 200, {"etag": "x"}, b'{"url":"u","name":"n"}') == []


def test_schema_problems_are_named_by_path(mini) -> None:
    problems = mini.validate_response(
        "thing_read", 200, {"ETag": "x"}, {"name": 3, "kind": "c", "owner": {"naam": "long"}}
    )
    text = "\n".join(problems)
    assert '"url" is a required property' in text
    assert 'body.name: 3 is not of type "string"' in text
    assert "body.kind" in text
    assert "body.owner.naam" in text


def test_write_only_property_in_a_response_is_a_problem(mini) -> None:
    problems = mini.validate_response(
        "thing_read", 200, {"ETag": "x"}, {"url": "u", "name": "n", "secret": "s"}
    )
    assert any("secret" in p for p in problems)


def test_required_header_missing_and_ref_response(mini) -> None:
    assert mini.validate_response("thing_read", 200, {}, {"url": "u", "name": "n"}) == [
        "header ETag: required but missing"
    ]
    assert mini.validate_response("thing_read", 404, {}, {"code": "not_found"}) == []
    assert mini.validate_response("thing_read", 404, {}, {}) != []


def test_undocumented_status_non_json_and_bodies_where_none_belong(mini) -> None:
    assert "not documented" in mini.validate_response("thing_read", 418, {}, b"")[0]
    problems = mini.validate_response(
        "thing_read", 200, {"Content-Type": "text/html", "ETag": "x"}, b"<html>"
    )
    assert any("not a JSON media type" in p for p in problems)
    assert any("not valid JSON" in p for p in problems)
    assert mini.validate_response("thing_delete", 204, {}, b"") == []
    assert mini.validate_response("thing_delete", 204, {}, b"{}") == [
        "a 204 response must not have a body"
    ]
    assert mini.validate_response("thing_read", 304, {}, b"") == []


def test_the_project_contract_loads() -> None:
    spec = load_spec()
    assert len(spec.operations) == 38
    assert spec.version == "1.0.0-rc1"
    # subjectType is a nullable enum: null is allowed in a response.
    body = {"url": "http://kic/api/v1/klanten/1", "subjectType": None}
    headers = {"Location": "http://kic/api/v1/klanten/1", "API-version": "1.0.0-rc1"}
    assert spec.validate_response("klant_create", 201, headers, body) == []


def test_bad_files_raise_spec_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(SpecError, match=r"missing\.yaml"):
        load_spec(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\npaths: {}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"no .paths."):
        load_spec(broken)
    dangling = tmp_path / "dangling.yaml"
    dangling.write_text(
        MINI.replace("'#/components/responses/NotFound'", "'#/components/responses/Nope'")
    )
    with pytest.raises(SpecError, match="points nowhere"):
        load_spec(dangling)
