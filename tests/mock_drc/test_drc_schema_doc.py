"""The OpenAPI documents the mock serves for schema-driven clients."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from mock_drc.testing import MockDrcHandle


def _operation_ids(spec: dict[str, Any]) -> set[str]:
    return {
        op["operationId"]
        for item in spec["paths"].values()
        for key, op in item.items()
        if key != "parameters"
    }


@pytest.mark.parametrize("query", ["", "?v=3"])
def test_documents_spec_lists_the_operations(mock_drc: MockDrcHandle, query: str) -> None:
    response = httpx.get(
        mock_drc.documents_root + "schema/openapi.yaml" + query,
        headers={"Accept": "application/yaml"},
    )
    assert response.status_code == 200
    spec = yaml.safe_load(response.text)
    assert spec["openapi"].startswith("3.0")
    assert spec["servers"] == [{"url": mock_drc.documents_root.rstrip("/")}]
    assert _operation_ids(spec) == {
        "objectinformatieobject_create",
        "objectinformatieobject_list",
        "objectinformatieobject_read",
        "objectinformatieobject_delete",
        "enkelvoudiginformatieobject_read",
    }
    assert spec["paths"]["/objectinformatieobjecten"]["post"]["responses"].keys() >= {"201"}
    assert (
        "verzoek"
        in spec["components"]["schemas"]["ObjectInformatieObject"]["properties"]["objectType"][
            "enum"
        ]
    )


def test_served_documents_match_the_served_schema(
    mock_drc: MockDrcHandle, http: httpx.Client
) -> None:
    spec = httpx.get(mock_drc.documents_root + "schema/openapi.json").json()
    schema = {
        "$ref": "#/components/schemas/EnkelvoudigInformatieObject",
        "components": spec["components"],
    }
    OAS30ReadValidator(schema, format_checker=oas30_format_checker).validate(
        http.get(mock_drc.create_document()["url"]).json()
    )


def test_zaken_spec(mock_drc: MockDrcHandle) -> None:
    spec = yaml.safe_load(httpx.get(mock_drc.zaken_root + "schema/openapi.yaml").text)
    assert _operation_ids(spec) == {"zaak_read", "zaakcontactmoment_list", "zaakverzoek_list"}


def test_unknown_schema_file_is_404(mock_drc: MockDrcHandle) -> None:
    assert httpx.get(mock_drc.documents_root + "schema/swagger.txt").status_code == 404
