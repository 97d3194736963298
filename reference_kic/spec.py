"""Loading the KIC contract (openapi.yaml) once and handing out resolved schemas.

The file is the one the package ships (:func:`zgw.contract.openapi_path`), the same the harness
tests against.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from zgw.contract import openapi_path


@functools.lru_cache(maxsize=1)
def spec_text() -> str:
    """The raw YAML text of the spec (served at /api/v1/schema/openapi.yaml)."""
    return openapi_path().read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The parsed spec; parsed once per process."""
    return yaml.safe_load(spec_text())


def resolve(node: Any, spec: dict[str, Any] | None = None) -> Any:
    """Follow a local ``$ref`` (possibly a chain of them) to the node it names."""
    spec = spec or load_spec()
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def component_schema(name: str) -> dict[str, Any]:
    """``components.schemas[name]``, resolved."""
    return resolve(load_spec()["components"]["schemas"][name])


def operation(operation_id: str) -> dict[str, Any]:
    """The operation object with this operationId."""
    for item in load_spec()["paths"].values():
        for method, op in item.items():
            if method != "parameters" and op.get("operationId") == operation_id:
                return op
    raise KeyError(operation_id)


def response_schema_name(operation_id: str, status: str) -> str:
    """The component name of the response schema of an operation (e.g. ``Klant``)."""
    response = resolve(operation(operation_id)["responses"][status])
    schema = response["content"]["application/json"]["schema"]
    return schema["$ref"].rsplit("/", 1)[-1]
