"""Comparing JSON values the way the KIC contract means them, for the invariant checks.

The invariants of :mod:`harness.checks` ask questions no plain equality answers: does a write's
answer carry what was sent (a date-time may come back in another zone, a URL with a differently
cased host); does a read equal the write before it; which properties does the schema define for
this object (a klant's ``subjectIdentificatie`` depends on its ``subjectType``); which fields link
to the KIC's own resources. Every answer is read from the schema, so the rules hold for every
resource without lists of fields per scenario.

Rules for "the KIC carries the value sent" (:func:`carried`), each a normalisation the standard
or the VNG reference makes legitimately:

- fields outside the schema and read-only fields are not compared (the KIC drops or sets them);
- strings are compared without surrounding blanks (Django's ``CharField`` trims them);
- ``date-time`` values are compared as instants, to the microsecond;
- ``uri`` values are compared normalised (scheme and host case, default port, empty path);
- a blank value sent (``""``, ``null``, ``[]``, an object of blanks) matches a blank or absent one
  (a KIC may answer ``""`` or leave an unset enum out);
- ``null`` sent for a sub-object is not compared: an update keeps the stored one (reference);
- objects are compared key by key for the keys sent (a partial update merges, defaults fill the
  rest); arrays element by element.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.matchers import show
from harness.spec import Spec
from zgw.datetimes import parse_instant

DEFAULT_PORTS = {"http": 80, "https": 443}
_ABSENT = object()


# --------------------------------------------------------------------------- values


def normalise_url(url: str) -> str:
    """``url`` with scheme and host lower-cased, a default port dropped and ``/`` for no path."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{credentials}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def under(url: str, root: str) -> bool:
    """True when ``url`` lies under the API root ``root`` (both normalised)."""
    prefix = normalise_url(root).rstrip("/") + "/"
    return normalise_url(url).startswith(prefix)


def instant(value: str) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC instant (naive counts as UTC); None if it is none."""
    return parse_instant(value.strip())


def is_blank(value: Any) -> bool:
    """``""``, ``null``, ``[]``, or an object whose every value is blank."""
    if value is None or value == "" or value == []:
        return True
    return isinstance(value, dict) and all(is_blank(v) for v in value.values())


def _show(value: Any, limit: int = 80) -> str:
    return show(value, limit)


# --------------------------------------------------------------------------- schemas


class Schemas:
    """The schema questions of the invariants, answered from one spec."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.components: dict[str, Any] = (spec.raw.get("components") or {}).get("schemas") or {}

    def resolve(self, schema: Any) -> dict[str, Any]:
        resolved = self.spec.resolve(schema) if isinstance(schema, dict) else {}
        return resolved if isinstance(resolved, dict) else {}

    def variant(self, schema: dict[str, Any], instance: Any) -> tuple[str, dict[str, Any]] | None:
        """The variant a discriminated ``schema`` names for ``instance``: (name, schema)."""
        discriminator = schema.get("discriminator") or {}
        prop = discriminator.get("propertyName")
        if not prop or not isinstance(instance, dict) or not isinstance(instance.get(prop), str):
            return None
        value = instance[prop]
        target = (discriminator.get("mapping") or {}).get(value, f"#/components/schemas/{value}")
        name = target.rsplit("/", 1)[-1]
        variant = self.components.get(name)
        return (name, variant) if isinstance(variant, dict) else None

    def properties(
        self, schema: Any, instance: Any, _visiting: frozenset[int] = frozenset()
    ) -> dict[str, Any] | None:
        """The properties ``schema`` defines for ``instance`` (allOf merged, the discriminated
        variant included); None when the object is open (no properties listed, or
        ``additionalProperties`` allowed)."""
        schema = self.resolve(schema)
        if id(schema) in _visiting:
            return {}
        visiting = _visiting | {id(schema)}
        found: dict[str, Any] = dict(schema.get("properties") or {})
        parts = list(schema.get("allOf") or [])
        if not found and not parts and not schema.get("discriminator"):
            return None
        if schema.get("additionalProperties") not in (None, False):
            return None
        for part in parts:
            more = self.properties(part, instance, visiting)
            if more is None:
                return None
            found.update(more)
        chosen = self.variant(schema, instance)
        if chosen is not None:
            more = self.properties(chosen[1], instance, visiting)
            if more is None:
                return None
            found.update(more)
        return found

    def items(self, schema: Any) -> Any:
        """The ``items`` schema of an array schema (through ``allOf``), or None."""
        schema = self.resolve(schema)
        if "items" in schema:
            return schema["items"]
        for part in schema.get("allOf") or []:
            found = self.items(part)
            if found is not None:
                return found
        return None

    def is_object(self, schema: Any) -> bool:
        schema = self.resolve(schema)
        return schema.get("type") == "object" or "properties" in schema or "allOf" in schema

    def fmt(self, schema: Any) -> str | None:
        schema = self.resolve(schema)
        if "format" in schema:
            return schema["format"]
        for part in schema.get("allOf") or []:
            found = self.fmt(part)
            if found:
                return found
        return None

    def read_only(self, schema: Any) -> bool:
        return bool(self.resolve(schema).get("readOnly"))

    # -- the questions of the invariants -------------------------------------------------

    def undocumented(self, schema: Any, instance: Any, path: str = "$") -> list[str]:
        """Every property of ``instance`` (at any depth) that ``schema`` does not define."""
        if isinstance(instance, list):
            items = self.items(schema)
            if items is None:
                return []
            found: list[str] = []
            for index, element in enumerate(instance):
                found.extend(self.undocumented(items, element, f"{path}[{index}]"))
            return found
        if not isinstance(instance, dict):
            return []
        properties = self.properties(schema, instance)
        if properties is None:
            return []
        found = []
        for key, value in instance.items():
            if key not in properties:
                found.append(f"{path}.{key}")
            else:
                found.extend(self.undocumented(properties[key], value, f"{path}.{key}"))
        return found

    def variant_parts(self, schema: Any, instance: Any) -> Iterator[tuple[str, str, Any, Any]]:
        """For every discriminated object in ``instance`` (``schema`` its schema): the JSON path,
        the variant's name, each part the variant adds to the base (to validate against) and
        the object."""
        yield from self._variant_parts(schema, instance, "$")

    def _variant_parts(
        self, schema: Any, instance: Any, path: str
    ) -> Iterator[tuple[str, str, Any, Any]]:
        resolved = self.resolve(schema)
        if isinstance(instance, list):
            items = self.items(resolved)
            if items is not None:
                for index, element in enumerate(instance):
                    yield from self._variant_parts(items, element, f"{path}[{index}]")
            return
        if not isinstance(instance, dict):
            return
        chosen = self.variant(resolved, instance)
        if chosen is not None:
            name, variant = chosen
            for part in variant.get("allOf") or [variant]:
                if self.resolve(part) is not resolved:
                    yield path, name, part, instance

    @functools.cached_property
    def own_link_fields(self) -> dict[str, str]:
        """Fields that link to one of the KIC's own resources -> that collection's path.

        A property named after the schema a collection's items have (``klant`` for the
        ``Klant`` items of ``/klanten``), compared case-insensitively.
        """
        names: dict[str, str] = {}
        for operation in self.spec.operations.values():
            if operation.method != "GET" or not operation.path_params:
                continue
            doc = operation.responses.get("200")
            ref = (doc.schema or {}).get("$ref", "") if doc else ""
            if ref.startswith("#/components/schemas/"):
                collection = operation.path.rsplit("/", 1)[0]
                names[ref.rsplit("/", 1)[-1].lower()] = collection
        return names

    def links(self, instance: Any, path: str = "$") -> Iterator[tuple[str, str]]:
        """Every (JSON path, URL) in ``instance`` that must lie under the KIC's API root: the
        ``url`` of every object and every field linking to an own resource (lists included)."""
        yield from self._links(instance, self.own_link_fields, path)

    def _links(self, instance: Any, fields: dict[str, str], path: str) -> Iterator[tuple[str, str]]:
        if isinstance(instance, list):
            for index, element in enumerate(instance):
                yield from self._links(element, fields, f"{path}[{index}]")
            return
        if not isinstance(instance, dict):
            return
        for key, value in instance.items():
            here = f"{path}.{key}"
            if isinstance(value, str) and value and (key == "url" or key.lower() in fields):
                yield here, value
            elif isinstance(value, (dict, list)):
                yield from self._links(value, fields, here)

    def carried(
        self, sent: Any, actual: Any, schema: Any, path: str = "$"
    ) -> tuple[list[str], int]:
        """How ``actual`` fails to carry ``sent`` (the module's rules) and how many values were
        compared (0: nothing sent could be recognised in an answer)."""
        if sent is None and self.is_object(schema):
            return [], 0
        if is_blank(sent) and (actual is _ABSENT or is_blank(actual)):
            return [], 0
        if actual is _ABSENT:
            return [f"{path}: sent {_show(sent)}, missing in the answer"], 1
        if isinstance(sent, dict):
            if not isinstance(actual, dict):
                return [f"{path}: sent an object, got {_show(actual)}"], 1
            properties = self.properties(schema, actual)
            problems: list[str] = []
            compared = 0
            for key, value in sent.items():
                if properties is not None and key not in properties:
                    continue
                prop = (properties or {}).get(key, {})
                if self.read_only(prop):
                    continue
                more, count = self.carried(value, actual.get(key, _ABSENT), prop, f"{path}.{key}")
                problems.extend(more)
                compared += count
            return problems, compared
        if isinstance(sent, list):
            if not isinstance(actual, list) or len(actual) != len(sent):
                return [f"{path}: sent {_show(sent)}, got {_show(actual)}"], 1
            items = self.items(schema) or {}
            problems, compared = [], 0
            for index, (mine, theirs) in enumerate(zip(sent, actual, strict=True)):
                more, count = self.carried(mine, theirs, items, f"{path}[{index}]")
                problems.extend(more)
                compared += count
            return problems, compared
        if self.same(sent, actual, schema):
            return [], 1
        return [f"{path}: sent {_show(sent)}, got {_show(actual)}"], 1

    def same(self, first: Any, second: Any, schema: Any) -> bool:
        """Equal by the module's rules for one value of ``schema`` (scalars and trees)."""
        if isinstance(first, dict) and isinstance(second, dict):
            if set(first) != set(second):
                return False
            properties = self.properties(schema, first) or {}
            return all(self.same(first[k], second[k], properties.get(k, {})) for k in first)
        if isinstance(first, list) and isinstance(second, list):
            items = self.items(schema) or {}
            return len(first) == len(second) and all(
                self.same(a, b, items) for a, b in zip(first, second, strict=True)
            )
        if isinstance(first, str) and isinstance(second, str):
            fmt = self.fmt(schema)
            if fmt == "date-time":
                a, b = instant(first), instant(second)
                if a is not None and b is not None:
                    return a == b
            if fmt == "uri":
                return normalise_url(first) == normalise_url(second)
            return first.strip() == second.strip()
        if isinstance(first, bool) or isinstance(second, bool):
            return first is second
        return first == second

    def differences(self, first: Any, second: Any, schema: Any, path: str = "$") -> list[str]:
        """Where two answers for one object differ (a write's answer and the read after it)."""
        if isinstance(first, dict) and isinstance(second, dict):
            properties = self.properties(schema, first) or {}
            found = []
            for key in sorted(set(first) | set(second), key=str):
                here = f"{path}.{key}"
                if key not in second:
                    found.append(f"{here}: {_show(first[key])}, then missing")
                elif key not in first:
                    found.append(f"{here}: missing, then {_show(second[key])}")
                else:
                    found.extend(
                        self.differences(first[key], second[key], properties.get(key, {}), here)
                    )
            return found
        if self.same(first, second, schema):
            return []
        return [f"{path}: {_show(first)}, then {_show(second)}"]
