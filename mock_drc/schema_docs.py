"""The small OpenAPI 3.0 documents describing what the mock implements, served under each
API root at ``schema/openapi.yaml`` (or ``.json``) for schema-driven clients.

Paths are relative to the API root given in ``servers``; operationIds follow the real DRC
and ZRC (``objectinformatieobject_create`` ...), so a client looking operations up by id works.
"""

from __future__ import annotations

import json
from typing import Any

import falcon
import yaml

from mock_drc.common import public_base
from mock_drc.config import API_VERSION, DrcConfig
from mock_drc.documents import STATUSES, VERTROUWELIJKHEIDAANDUIDINGEN
from mock_drc.paths import DOCUMENTS_ROOT, ZAKEN_ROOT, join

_JSON = "application/json"
_PROBLEM = "application/problem+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _uri(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "format": "uri", **extra}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def _response(
    description: str, schema: dict[str, Any] | None, media: str = _JSON
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "headers": {"API-version": {"schema": {"type": "string"}}},
    }
    if schema is not None:
        response["content"] = {media: {"schema": schema}}
    return response


def _errors(*statuses: int) -> dict[str, Any]:
    names = {400: "ValidatieFout"}
    return {str(s): _response("Error", _ref(names.get(s, "Fout")), _PROBLEM) for s in statuses}


_UUID_PARAM = {
    "name": "uuid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _query(name: str, uri: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if uri:
        schema["format"] = "uri"
    return {"name": name, "in": "query", "required": False, "schema": schema}


_FOUT = {
    "type": "object",
    "required": ["code", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
_VALIDATIE_FOUT = {
    "allOf": [
        _ref("Fout"),
        {
            "type": "object",
            "required": ["invalidParams"],
            "properties": {
                "invalidParams": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "code", "reason"],
                        "properties": {n: {"type": "string"} for n in ("name", "code", "reason")},
                    },
                }
            },
        },
    ],
}
_SECURITY = {
    "securitySchemes": {"JWT-Claims": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
}


def documents_spec(api_root_url: str, object_types: frozenset[str]) -> dict[str, Any]:
    """The Documenten API subset the mock serves."""
    document = {
        "type": "object",
        "required": [
            "url",
            "auteur",
            "beginRegistratie",
            "bestandsdelen",
            "bronorganisatie",
            "creatiedatum",
            "informatieobjecttype",
            "locked",
            "taal",
            "titel",
            "versie",
        ],
        "properties": {
            "url": _uri(1000, readOnly=True),
            "identificatie": {"type": "string", "maxLength": 40},
            "bronorganisatie": {"type": "string", "maxLength": 9},
            "creatiedatum": {"type": "string", "format": "date"},
            "titel": {"type": "string", "maxLength": 200},
            "vertrouwelijkheidaanduiding": {
                "type": "string",
                "enum": sorted(VERTROUWELIJKHEIDAANDUIDINGEN),
            },
            "auteur": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": sorted(STATUSES)},
            "formaat": {"type": "string", "maxLength": 255},
            "taal": {"type": "string", "minLength": 3, "maxLength": 3},
            "versie": {"type": "integer", "readOnly": True},
            "beginRegistratie": {"type": "string", "format": "date-time", "readOnly": True},
            "bestandsnaam": {"type": "string", "maxLength": 255},
            "inhoud": {"type": "string", "format": "uri"},
            "bestandsomvang": {"type": "integer", "minimum": 0},
            "beschrijving": {"type": "string", "maxLength": 1000},
            "informatieobjecttype": _uri(200),
            "locked": {"type": "boolean", "readOnly": True},
            "bestandsdelen": {"type": "array", "items": {"type": "object"}, "readOnly": True},
            "trefwoorden": {"type": "array", "items": {"type": "string", "maxLength": 100}},
        },
    }
    mirror = {
        "type": "object",
        "required": ["url", "informatieobject", "object", "objectType"],
        "properties": {
            "url": _uri(1000, readOnly=True),
            "informatieobject": _uri(1000),
            "object": _uri(1000),
            "objectType": {"type": "string", "enum": sorted(object_types)},
        },
    }
    mirror_item = {"parameters": [_UUID_PARAM]}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Documenten API (kic-conformance mock DRC)", "version": API_VERSION},
        "servers": [{"url": api_root_url.rstrip("/")}],
        "security": [{"JWT-Claims": []}],
        "paths": {
            "/enkelvoudiginformatieobjecten/{uuid}": {
                "parameters": [_UUID_PARAM],
                "get": {
                    "operationId": "enkelvoudiginformatieobject_read",
                    "responses": {
                        "200": _response("OK", _ref("EnkelvoudigInformatieObject")),
                        **_errors(403, 404),
                    },
                },
            },
            "/objectinformatieobjecten": {
                "get": {
                    "operationId": "objectinformatieobject_list",
                    "parameters": [_query("object"), _query("informatieobject")],
                    "responses": {
                        "200": _response(
                            "OK", {"type": "array", "items": _ref("ObjectInformatieObject")}
                        ),
                        **_errors(400, 403),
                    },
                },
                "post": {
                    "operationId": "objectinformatieobject_create",
                    "requestBody": {
                        "required": True,
                        "content": {_JSON: {"schema": _ref("ObjectInformatieObject")}},
                    },
                    "responses": {
                        "201": _response("Created", _ref("ObjectInformatieObject")),
                        **_errors(400, 403),
                    },
                },
            },
            "/objectinformatieobjecten/{uuid}": {
                **mirror_item,
                "get": {
                    "operationId": "objectinformatieobject_read",
                    "responses": {
                        "200": _response("OK", _ref("ObjectInformatieObject")),
                        **_errors(403, 404),
                    },
                },
                "delete": {
                    "operationId": "objectinformatieobject_delete",
                    "responses": {"204": _response("No content", None), **_errors(400, 403, 404)},
                },
            },
        },
        "components": {
            **_SECURITY,
            "schemas": {
                "EnkelvoudigInformatieObject": document,
                "ObjectInformatieObject": mirror,
                "Fout": _FOUT,
                "ValidatieFout": _VALIDATIE_FOUT,
            },
        },
    }


def zaken_spec(api_root_url: str) -> dict[str, Any]:
    """The Zaken API subset the mock serves."""
    link = {
        "type": "object",
        "required": ["url", "zaak"],
        "properties": {
            "url": _uri(1000, readOnly=True),
            "uuid": {"type": "string"},
            "zaak": _uri(1000),
            "contactmoment": _uri(1000),
            "verzoek": _uri(1000),
        },
    }
    zaak = {
        "type": "object",
        "required": [
            "url",
            "bronorganisatie",
            "zaaktype",
            "verantwoordelijkeOrganisatie",
            "startdatum",
        ],
        "properties": {
            "url": _uri(1000, readOnly=True),
            "uuid": {"type": "string", "readOnly": True},
            "identificatie": {"type": "string", "maxLength": 40},
            "bronorganisatie": {"type": "string", "maxLength": 9},
            "zaaktype": _uri(1000),
            "verantwoordelijkeOrganisatie": {"type": "string", "maxLength": 9},
            "startdatum": {"type": "string", "format": "date"},
        },
    }

    def list_of(operation_id: str, other: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": operation_id,
                "parameters": [_query("zaak"), _query(other)],
                "responses": {
                    "200": _response("OK", {"type": "array", "items": _ref("ZaakLink")}),
                    **_errors(400, 403),
                },
            }
        }

    return {
        "openapi": "3.0.3",
        "info": {"title": "Zaken API (kic-conformance mock, subset)", "version": "1.0.0"},
        "servers": [{"url": api_root_url.rstrip("/")}],
        "security": [{"JWT-Claims": []}],
        "paths": {
            "/zaken/{uuid}": {
                "parameters": [_UUID_PARAM],
                "get": {
                    "operationId": "zaak_read",
                    "responses": {"200": _response("OK", _ref("Zaak")), **_errors(403, 404)},
                },
            },
            "/zaakcontactmomenten": list_of("zaakcontactmoment_list", "contactmoment"),
            "/zaakverzoeken": list_of("zaakverzoek_list", "verzoek"),
        },
        "components": {
            **_SECURITY,
            "schemas": {
                "Zaak": zaak,
                "ZaakLink": link,
                "Fout": _FOUT,
                "ValidatieFout": _VALIDATIE_FOUT,
            },
        },
    }


class SchemaDocument:
    """Serves one API's spec as YAML (``openapi.yaml``) or JSON (``openapi.json``); any query
    string (``?v=3``) is tolerated."""

    def __init__(self, config: DrcConfig, api: str) -> None:
        self.config = config
        self.api = api

    def on_get(self, req: falcon.Request, resp: falcon.Response, filename: str) -> None:
        base = public_base(req, self.config)
        if self.api == "documenten":
            spec = documents_spec(join(base, DOCUMENTS_ROOT), self.config.object_types)
        else:
            spec = zaken_spec(join(base, ZAKEN_ROOT))
        if filename == "openapi.yaml":
            resp.content_type = "application/vnd.oai.openapi"
            resp.text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
        elif filename == "openapi.json":
            resp.content_type = "application/vnd.oai.openapi+json"
            resp.text = json.dumps(spec)
        else:
            raise falcon.HTTPNotFound(description="Try schema/openapi.yaml or schema/openapi.json.")
