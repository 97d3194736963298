"""The KIC contract as the harness sees it: openapi.yaml parsed once, operations by operationId.

:func:`load_spec` parses the shipped ``openapi.yaml`` (:func:`zgw.contract.openapi_path`, or a
given file) once per path and
returns a :class:`Spec`: every operation with its method, path template, parameters, request
schema and documented responses (schema and headers per status), and
:meth:`Spec.response_problems`, which checks one response against what the operation documents,
OpenAPI 3.0 aware (``nullable``, ``readOnly``/``writeOnly``, ``$ref``) through
openapi-schema-validator's OAS 3.0 read validator and :data:`RESPONSE_FORMAT_CHECKER`: the OAS 3.0
format checker, plus an RFC 3986 ``uri`` check, where a blank ``""`` passes the text formats of
:data:`harness.compat.BLANK_UNSET_FORMATS` (a KIC answers ``""`` for an unset text field).

This module reads the contract literally (:meth:`Spec.validate_response` gives its problems as
text). What a conformance check fails at must level is decided by :mod:`harness.compat`, the
compatibility policy, on top of these problems.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from harness.compat import BLANK_UNSET_FORMATS
from harness.matchers import show
from zgw.contract import openapi_path
from zgw.errors import JSON, PROBLEM_JSON

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA_TYPES = (JSON, PROBLEM_JSON)


# An absolute URI (RFC 3986 section 4.3): a scheme, then only characters a URI may hold
# (unreserved, reserved, percent-escapes). It checks the character level, not every rule of
# the grammar, which is enough to tell a URL from free text, spaces or a relative path.
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)


def _is_uri(instance: object) -> bool:
    """An RFC 3986 absolute URI; values of other types are left to the ``type`` keyword."""
    if not isinstance(instance, str):
        return True
    return _URI.fullmatch(instance) is not None


def _blank_or(check: Callable[[object], bool]) -> Callable[[object], bool]:
    def blank_or_check(instance: object) -> bool:
        return instance == "" or check(instance)

    return blank_or_check


def response_format_checker() -> FormatChecker:
    """The format checker for KIC responses.

    It is openapi-schema-validator's OAS 3.0 checker with two changes. ``uri`` is checked here:
    jsonschema registers its own ``uri`` check only when an optional package (rfc3987 or
    rfc3986-validator) is installed, so otherwise any string would pass and the outcome would
    depend on the machine.
    And a blank string passes the formats in :data:`harness.compat.BLANK_UNSET_FORMATS`: the
    official KIC and its reference implementation return ``""`` for an unset ``emailadres`` or
    ``subject``.
    ``minLength``, ``maxLength``, ``type``, ``enum`` and ``nullable`` are untouched, so a field
    documented with ``minLength: 1`` (every ``url``) still refuses ``""``.
    """
    checker = FormatChecker(formats=())
    checker.checkers = dict(oas30_format_checker.checkers)
    checker.checks("uri")(_is_uri)
    for name in BLANK_UNSET_FORMATS:
        check, raises = checker.checkers[name]
        checker.checks(name, raises)(_blank_or(check))
    return checker


RESPONSE_FORMAT_CHECKER = response_format_checker()


class SpecError(Exception):
    """The OpenAPI file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Parameter:
    """One operation parameter (path, query or header)."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class ResponseDoc:
    """A documented response: its status, JSON schema (None when bodiless) and headers."""

    status: str  # "200", "4XX" or "default"
    schema: dict[str, Any] | None
    media_types: tuple[str, ...]
    headers: dict[str, dict[str, Any]]  # header name -> {"required": bool, "schema": {...}}


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with every ``$ref`` of its parameters and responses resolved."""

    operation_id: str
    method: str  # upper case
    path: str  # template relative to the API root, e.g. /klanten/{uuid}
    tags: tuple[str, ...]
    scopes: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    request_schema: dict[str, Any] | None
    responses: dict[str, ResponseDoc]

    @property
    def path_params(self) -> list[str]:
        return [p.name for p in self.parameters if p.location == "path"]

    def response_for(self, status: int) -> ResponseDoc | None:
        """The documented response for ``status``: exact code, then ``4XX``, then ``default``."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                return self.responses[key]
        return None

    def documented_statuses(self) -> list[int]:
        return sorted(int(s) for s in self.responses if s.isdigit())


@dataclass
class Spec:
    """The parsed contract; build it with :func:`load_spec`."""

    path: Path
    raw: dict[str, Any]
    operations: dict[str, Operation]
    version: str
    _validators: dict[Any, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"no operation {operation_id!r} in {self.path}") from None

    def unknown_operation(self, operation_id: str) -> str | None:
        """None when the spec has ``operation_id``; else the problem, with similar ids."""
        if operation_id in self.operations:
            return None
        prefix = operation_id.split("_")[0]
        close = sorted(o for o in self.operations if o.split("_")[0] == prefix)
        hint = f"; similar: {', '.join(close[:6])}" if close else ""
        return f"no operation {operation_id!r}{hint}"

    def resolve(self, node: Any) -> Any:
        """``node`` with its local ``$ref`` followed (itself when it has none)."""
        return _Resolver(self.raw, self.path).deref(node)

    def documented_statuses(self) -> dict[str, list[int]]:
        """operationId -> the status codes it documents (what the coverage report compares)."""
        return {op_id: op.documented_statuses() for op_id, op in self.operations.items()}

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The operation whose method and path template match a concrete relative path."""
        segments = [s for s in path.split("?")[0].strip("/").split("/") if s]
        for op in self.operations.values():
            if op.method != method.upper():
                continue
            template = [s for s in op.path.strip("/").split("/") if s]
            if len(template) == len(segments) and all(
                t == s or (t.startswith("{") and t.endswith("}"))
                for t, s in zip(template, segments, strict=True)
            ):
                return op
        return None

    def _components(self) -> dict[str, Any]:
        if "components" not in self._validators:
            self._validators["components"] = _nullable_enums(self.raw.get("components", {}))
        return self._validators["components"]

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = id(schema)
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                # Wrap so that "#/components/..." references resolve against the spec.
                root = {
                    "allOf": [_nullable_enums(schema)],
                    "components": self._components(),
                }
                validator = OAS30ReadValidator(root, format_checker=RESPONSE_FORMAT_CHECKER)
                self._validators[key] = validator
            return validator

    def schema_errors(self, schema: dict[str, Any], instance: Any) -> list[Any]:
        """The jsonschema errors of ``instance`` against an OpenAPI 3.0 ``schema``, in order."""
        return sorted(self._validator(schema).iter_errors(instance), key=_error_sort_key)

    def validate_schema(
        self, schema: dict[str, Any], instance: Any, where: str = "body"
    ) -> list[str]:
        """Problems of ``instance`` against an OpenAPI 3.0 ``schema`` (response semantics)."""
        return [
            f"{where}{_json_path(error.absolute_path)}: {schema_message(error)}"
            for error in self.schema_errors(schema, instance)
        ]

    def validate_response(
        self, operation_id: str, status: int, headers: dict[str, str], body: Any
    ) -> list[str]:
        """Everything wrong with one response of ``operation_id`` against the contract, as text.

        ``body`` is either the raw body (``bytes``; empty means no body) or an already parsed
        JSON value (``None`` meaning no body). Empty means the response conforms to the letter
        of the contract; :func:`harness.compat.judge_response` says what of it fails a check.
        """
        return [p.text for p in self.response_problems(operation_id, status, headers, body)]

    def response_problems(
        self, operation_id: str, status: int, headers: dict[str, str], body: Any
    ) -> list[ResponseProblem]:
        """:meth:`validate_response` as :class:`ResponseProblem` objects (aspect, place, rule)."""
        op = self.operation(operation_id)
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        body_read = _parse_body(body)
        present = body_read[0]
        if status == 304 and any(p.name.lower() == "if-none-match" for p in op.parameters):
            # A conditional GET answered "not modified": HTTP semantics, no body allowed.
            return (
                [ResponseProblem("body", "a 304 response must not have a body")] if present else []
            )
        doc = op.response_for(status)
        if doc is None:
            documented = ", ".join(str(s) for s in op.documented_statuses())
            return [
                ResponseProblem(
                    "status",
                    f"status {status} is not documented for {operation_id} "
                    f"(documented: {documented})",
                )
            ]
        return self._header_problems(doc, lowered) + self._body_problems(
            doc, status, lowered, body_read
        )

    def _header_problems(self, doc: ResponseDoc, lowered: dict[str, str]) -> list[ResponseProblem]:
        """The documented headers: the required ones present, each matching its schema
        (``lowered``: the response's headers by lower-case name)."""
        problems: list[ResponseProblem] = []
        for name, header in doc.headers.items():
            value = lowered.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(
                        ResponseProblem("header", f"header {name}: required but missing")
                    )
                continue
            if header.get("schema"):
                problems.extend(
                    ResponseProblem.of(error, "header", f"header {name}")
                    for error in self.schema_errors(header["schema"], value)
                )
        return problems

    def _body_problems(
        self,
        doc: ResponseDoc,
        status: int,
        lowered: dict[str, str],
        body_read: tuple[bool, Any, str | None],
    ) -> list[ResponseProblem]:
        """The body against the documented one: none where none is documented (a 204's never),
        else present, JSON and valid against the schema (``body_read``: what
        :func:`_parse_body` made of it)."""
        present, parsed, parse_problem = body_read
        if doc.schema is None:
            if present and status == 204:
                return [ResponseProblem("body", "a 204 response must not have a body")]
            return []
        if not present:
            missing = f"body: missing; a {' or '.join(doc.media_types)} body is documented"
            return [ResponseProblem("body", missing)]
        problems: list[ResponseProblem] = []
        content_type = lowered.get("content-type", "").split(";")[0].strip().lower()
        if (
            content_type
            and content_type not in JSON_MEDIA_TYPES
            and not content_type.endswith("+json")
        ):
            problems.append(
                ResponseProblem(
                    "content-type",
                    f"header Content-Type: {show(content_type)} is not a JSON media type",
                )
            )
        if parse_problem:
            problems.append(ResponseProblem("body", parse_problem))
            return problems
        problems.extend(
            ResponseProblem.of(error, "body", "body")
            for error in self.schema_errors(doc.schema, parsed)
        )
        return problems


@dataclass(frozen=True)
class ResponseProblem:
    """One way a response differs from its documented form.

    ``aspect`` is what it is about: ``status`` (not documented), ``header``, ``content-type``
    or ``body``. A schema violation also says where (``path``: the JSON path in the body, keys
    and list indices), which ``keyword`` it broke (``minLength``, ``enum``, ``required``, ...)
    and the offending ``instance``; the compatibility policy reads those.
    """

    aspect: str
    text: str
    path: tuple[str | int, ...] = ()
    keyword: str | None = None
    instance: Any = None

    @classmethod
    def of(cls, error: Any, aspect: str, where: str) -> ResponseProblem:
        """The problem of a jsonschema ``error`` found at ``where`` (``body``, a header)."""
        path = tuple(error.absolute_path)
        return cls(
            aspect,
            f"{where}{_json_path(path)}: {schema_message(error)}",
            path,
            str(error.validator),
            error.instance,
        )


def _nullable_enums(node: Any) -> Any:
    """A copy of ``node`` where every ``nullable`` enum also lists ``None``.

    OpenAPI 3.0 lets ``nullable: true`` admit ``null`` whatever the other keywords say, but a
    JSON Schema ``enum`` would still refuse it (the official spec's nullable ``subjectType``).
    """
    if isinstance(node, dict):
        copy = {k: _nullable_enums(v) for k, v in node.items()}
        enum = copy.get("enum")
        if copy.get("nullable") is True and isinstance(enum, list) and None not in enum:
            copy["enum"] = [*enum, None]
        return copy
    if isinstance(node, list):
        return [_nullable_enums(v) for v in node]
    return node


def _parse_body(body: Any) -> tuple[bool, Any, str | None]:
    """(present, parsed value, problem) for a raw or parsed body."""
    if isinstance(body, (bytes, bytearray)):
        if not body.strip():
            return False, None, None
        try:
            return True, json.loads(body), None
        except (ValueError, UnicodeDecodeError) as exc:
            return True, None, f"body: not valid JSON ({exc})"
    return body is not None, body, None


#: How :func:`schema_message` words the common keywords (the value, then this); each gets
#: the keyword's value in JSON as ``{expected}``.
_KEYWORD_WORDING = {
    "type": "is not of type {expected}",
    "enum": "is not one of {expected}",
    "const": "is not {expected}",
    "format": "is not a {expected}",
    "pattern": "does not match {expected}",
    "minLength": "is too short (minLength {expected})",
    "maxLength": "is too long (maxLength {expected})",
    "minimum": "is less than the minimum of {expected}",
    "maximum": "is more than the maximum of {expected}",
    "minItems": "has too few items (minItems {expected})",
    "maxItems": "has too many items (maxItems {expected})",
}
_REQUIRED = re.compile(r"^(?P<name>'.*'|\".*\") is a required property$")


def schema_message(error: Any) -> str:
    """A jsonschema error's message with the values in JSON (``"" is not one of ["a"]``, not
    Python's ``'' is not one of ['a']``), like every other check message; the validator's
    own wording for the keywords not listed in :data:`_KEYWORD_WORDING`."""
    wording = _KEYWORD_WORDING.get(str(error.validator))
    if wording is not None:
        return f"{show(error.instance)} {wording.format(expected=show(error.validator_value))}"
    if error.validator == "required":
        match = _REQUIRED.match(error.message)
        if match:
            return f"{show(match.group('name')[1:-1])} is a required property"
    return str(error.message)


def _error_sort_key(error: Any) -> tuple[str, str]:
    return (_json_path(error.absolute_path), error.message)


def _json_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


class _Resolver:
    """Resolves local ``$ref`` pointers of one document, refusing cycles and dangling refs."""

    def __init__(self, raw: dict[str, Any], source: Path) -> None:
        self.raw = raw
        self.source = source

    def deref(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError(f"{self.source}: only local references are supported, not {ref!r}")
            if ref in seen:
                raise SpecError(f"{self.source}: circular reference {ref}")
            seen = (*seen, ref)
            target: Any = self.raw
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise SpecError(f"{self.source}: reference {ref} points nowhere")
                target = target[part]
            node = target
        return node


def _build_operations(
    raw: dict[str, Any], source: Path, resolver: _Resolver
) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    paths = raw.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise SpecError(f"{source}: no 'paths' found; is this an OpenAPI document?")
    for path, item in paths.items():
        item = resolver.deref(item)
        shared = [resolver.deref(p) for p in item.get("parameters", []) or []]
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            op_id = op.get("operationId")
            if not op_id:
                raise SpecError(f"{source}: {method.upper()} {path} has no operationId")
            if op_id in operations:
                raise SpecError(f"{source}: operationId {op_id!r} is used twice")
            own = [resolver.deref(p) for p in op.get("parameters", []) or []]
            merged = {(p["name"], p["in"]): p for p in [*shared, *own]}
            scopes: list[str] = []
            for requirement in op.get("security", raw.get("security", [])) or []:
                for values in requirement.values():
                    scopes.extend(values)
            operations[op_id] = Operation(
                operation_id=op_id,
                method=method.upper(),
                path=path,
                tags=tuple(op.get("tags", [])),
                scopes=tuple(scopes),
                parameters=tuple(
                    Parameter(p["name"], p["in"], bool(p.get("required")), p.get("schema") or {})
                    for p in merged.values()
                ),
                request_schema=_request_schema(op, resolver),
                responses=_responses(op, resolver),
            )
    return operations


def _request_schema(op: dict[str, Any], resolver: _Resolver) -> dict[str, Any] | None:
    if "requestBody" not in op:
        return None
    body = resolver.deref(op["requestBody"])
    for media, content in (body.get("content") or {}).items():
        if "json" in media:
            return content.get("schema")
    return None


def _responses(op: dict[str, Any], resolver: _Resolver) -> dict[str, ResponseDoc]:
    responses = {}
    for status, response in (op.get("responses") or {}).items():
        response = resolver.deref(response)
        schema, media_types = None, []
        for media, content in (response.get("content") or {}).items():
            media_types.append(media)
            if schema is None and "json" in media:
                schema = content.get("schema")
        headers = {}
        for name, header in (response.get("headers") or {}).items():
            header = resolver.deref(header)
            headers[name] = {
                "required": bool(header.get("required")),
                "schema": header.get("schema"),
            }
        responses[str(status)] = ResponseDoc(str(status), schema, tuple(media_types), headers)
    return responses


def spec_file(path: str | Path | None = None) -> Path:
    """The OpenAPI file a run uses: ``path`` when given, else the shipped contract."""
    return Path(path).resolve() if path is not None else openapi_path()


_cache: dict[Path, Spec] = {}
_cache_lock = threading.Lock()


def load_spec(path: str | Path | None = None) -> Spec:
    """Parse the contract once per file (cached) and return it; raises :class:`SpecError`."""
    source = spec_file(path)
    with _cache_lock:
        if source in _cache:
            return _cache[source]
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{source}: cannot read the OpenAPI file ({exc.strerror})") from None
        try:
            raw = yaml.safe_load(text) if source.suffix != ".json" else json.loads(text)
        except (yaml.YAMLError, ValueError) as exc:
            raise SpecError(f"{source}: not valid YAML/JSON: {exc}") from None
        if not isinstance(raw, dict) or not str(raw.get("openapi", "")).startswith("3.0"):
            raise SpecError(f"{source}: not an OpenAPI 3.0 document")
        try:
            operations = _build_operations(raw, source, _Resolver(raw, source))
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpecError(f"{source}: malformed operation definition ({exc!r})") from None
        spec = Spec(
            path=source,
            raw=raw,
            operations=operations,
            version=str((raw.get("info") or {}).get("version", "")),
        )
        _cache[source] = spec
        return spec
