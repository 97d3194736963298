"""The shape of stored and rendered objects, read from their openapi.yaml schema.

What an object looks like with nothing stored, how a partial update merges into a stored
sub-object, what the spec cannot represent (left out of responses), and which properties the
variants of a discriminated schema add (a klant's ``subjectIdentificatie``).
"""

from __future__ import annotations

import re
from typing import Any

from .spec import component_schema, resolve


def defaults_for(schema: dict[str, Any]) -> dict[str, Any]:
    """The rendered shape of an object with nothing stored: '' strings, [] lists, null objects."""
    result: dict[str, Any] = {}
    for name, prop in resolve(schema).get("properties", {}).items():
        prop = resolve(prop)
        if prop.get("readOnly"):
            continue
        kind = prop.get("type", "object" if "properties" in prop else None)
        if prop.get("nullable") or kind not in ("string", "array"):
            result[name] = None
        else:
            result[name] = "" if kind == "string" else []
    return result


def merge_nested(stored: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Update a stored sub-object field by field; nested sub-objects likewise, null = keep."""
    merged = dict(stored or {})
    for key, value in new.items():
        if isinstance(value, dict):
            merged[key] = merge_nested(merged.get(key), value)
        elif value is None and isinstance(merged.get(key), dict):
            continue
        else:
            merged[key] = value
    return merged


def with_defaults(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """Fill every property of ``schema`` missing from ``value`` (nested objects too)."""
    filled = {**defaults_for(schema), **value}
    for name, prop in resolve(schema).get("properties", {}).items():
        prop = resolve(prop)
        if isinstance(filled.get(name), dict) and "properties" in prop:
            filled[name] = with_defaults(prop, filled[name])
    return filled


def spec_shaped(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """``value`` without what its schema cannot represent, so every response is spec-valid.

    The VNG reference returns ``""`` for an unset enum (``initiatiefnemer``,
    ``geslachtsaanduiding``) or patterned text (``inpANummer``) and ``null`` for unset
    non-nullable sub-objects (``verblijfsadres``); none is valid against the spec, so such keys
    are left out instead.
    """
    properties = resolve(schema).get("properties", {})
    shaped: dict[str, Any] = {}
    for key, item in value.items():
        prop = resolve(properties[key]) if key in properties else None
        if prop is not None:
            if item == "" and ("enum" in prop or not _pattern_allows_blank(prop)):
                continue
            if item is None and not prop.get("nullable"):
                continue
            if isinstance(item, dict) and "properties" in prop:
                item = spec_shaped(prop, item)
        shaped[key] = item
    return shaped


def _pattern_allows_blank(prop: dict[str, Any]) -> bool:
    pattern = prop.get("pattern")
    return pattern is None or re.search(pattern, "") is not None


def variant_properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per value of the discriminator of ``schema``: the properties its variant adds.

    The variants are the component schemas named after the values of the discriminating
    property's enum (``subjectType: natuurlijk_persoon`` -> ``natuurlijk_persoon``), each an
    ``allOf`` of the base schema and the part it adds. Empty without a discriminator.
    """
    schema = resolve(schema)
    discriminator = schema.get("discriminator", {}).get("propertyName")
    if discriminator is None:
        return {}
    base = schema.get("properties", {})
    result: dict[str, dict[str, Any]] = {}
    for value in resolve(base[discriminator]).get("enum", []):
        added: dict[str, Any] = {}
        for part in component_schema(value).get("allOf", []):
            for name, prop in resolve(part).get("properties", {}).items():
                if name not in base:
                    added[name] = resolve(prop)
        result[value] = added
    return result
