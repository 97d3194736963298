"""Loading the KIC contract (openapi.yaml) once and handing out resolved schemas.

The project's own ``openapi.yaml`` is preferred; until it exists the official 1.0.0-rc1 spec
next to the repository (``../shared/specs``) is used. Both carry identical schemas.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

PROJECT_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
OFFICIAL_SPEC = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "specs"
    / "kic-1.0.0-rc1.openapi.yaml"
)


def spec_path() -> Path:
    """The spec file in use: the project's own, else the official one."""
    return PROJECT_SPEC if PROJECT_SPEC.exists() else OFFICIAL_SPEC


@functools.lru_cache(maxsize=1)
def spec_text() -> str:
    """The raw YAML text of the spec (served at /api/v1/schema/openapi.yaml)."""
    return spec_path().read_text(encoding="utf-8")


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
