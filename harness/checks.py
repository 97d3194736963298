"""Scenario checks as data: one signature, one registry per kind of step.

A check is ``check(seen, expected, level) -> CheckResult | None``. ``seen`` is what one step
observed (:class:`StepExchange` for an HTTP step, :class:`DrcView` for a ``drc_expect`` step),
``expected`` the value the step gives for the check's key (or the entry's default), ``level`` the
level the result counts at; ``None`` means there is nothing to judge here. No check raises for
anything the target does.

:data:`RESPONSE_CHECKS` lists, in report order, what every response of an HTTP step goes through:
an entry with an ``expect`` key runs when the step gives that key (or the entry has a default for
it); an entry without one runs on every exchange (an invariant of every KIC response).
:data:`DRC_CHECKS` does the same for the keys of ``drc_expect``. Adding an ``expect`` key is its
shape in ``scenario.schema.json`` plus one :class:`Expectation` here; the runner loops over the
registry and the scenario linter asks the entry's ``lint``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

from harness import compat, matchers
from harness.compare import Schemas, normalise_url, under
from harness.drc_control import DrcControl, documents_path
from harness.results import CheckResult, Exchange, Level
from harness.spec import Operation, Spec
from harness.transport import Response
from zgw.errors import API_VERSION_HEADER

if TYPE_CHECKING:
    from harness.scenarios import Step

NOT_A_SERVER_ERROR = "not_a_server_error"
#: What :meth:`Expectation.expected` answers when a step neither gives nor defaults a key.
NOT_GIVEN: Any = object()
API_VERSION_CHECK = "api_version_header"


def result(
    name: str,
    problems: list[str],
    level: Level,
    expected: Any = None,
    actual: Any = None,
    index: int | None = None,
    title: str = "",
) -> CheckResult:
    """A check's result: passed when ``problems`` is empty, else they are its message."""
    return CheckResult(
        name=name,
        passed=not problems,
        level=level,
        message="; ".join(problems),
        expected=expected,
        actual=actual,
        exchange_index=index,
        title=title if problems else "",
    )


# --------------------------------------------------------------------------- what is seen


@dataclass(frozen=True)
class StepExchange:
    """What a response check looks at: one HTTP step, its request and what came back.

    ``request`` is the step with its templates filled in (``expect`` included), ``exchanges``
    the case's exchanges so far (this one last, at ``index``), ``operation`` the spec operation
    the request belongs to (None for a ``request:`` step outside the spec).
    """

    step: Step
    request: dict[str, Any]
    response: Response
    index: int
    exchanges: tuple[Exchange, ...]
    spec: Spec
    operation: Operation | None
    #: The API root the client used (``RunConfig.target``).
    api_root: str = ""
    #: GETs a URL under ``api_root`` with the main client, recording the exchange in the case;
    #: returns the response and the exchange's index (None for a URL outside the API root,
    #: where the token must not go). None where no follow-up request can be made.
    follow: Callable[[str], tuple[Response, int] | None] | None = None
    #: What a write expected to be refused looked like just before it (see :func:`probe_url`).
    before: Snapshot | None = None

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[self.index]

    @property
    def method(self) -> str:
        return self.exchange.method.upper()

    @property
    def body_sent(self) -> Any:
        """The JSON body the step sent (``body``, or a ``raw_body`` that parses), else None."""
        if "body" in self.request:
            return self.request["body"]
        try:
            return json.loads(self.request["raw_body"]) if "raw_body" in self.request else None
        except (TypeError, ValueError):
            return None

    @property
    def earlier(self) -> tuple[Exchange, ...]:
        """The scenario's exchanges before this one (a write before this read, say)."""
        return self.exchanges[: self.index]

    @property
    def expect(self) -> dict[str, Any]:
        return self.request.get("expect") or {}


#: The KIC's verzoekinformatieobjecten of a verzoek (its URL) as the main client lists them:
#: (the items, None) or (None, why they could not be read).
RelationReader = Callable[[str], "tuple[list[Any] | None, str | None]"]


@dataclass
class DrcView:
    """What a ``drc_expect`` check looks at: the mock DRC's journal since the scenario began
    and its mirrors, each fetched once per view and only when a check asks; for ``mirrored``
    also the run's other DRCs and the KIC's own list of relations."""

    drc: DrcControl
    since: int | None
    others: tuple[DrcControl, ...] = ()
    relations: RelationReader | None = None

    @functools.cached_property
    def journal(self) -> list[dict[str, Any]]:
        return self.drc.journal(since=self.since)

    @functools.cached_property
    def mirrors(self) -> list[dict[str, Any]]:
        return self.drc.mirrors()

    @functools.cached_property
    def all_mirrors(self) -> list[dict[str, Any]]:
        """The mirrors of every DRC of the run (this one first)."""
        return [*self.mirrors, *(m for other in self.others for m in other.mirrors())]


# --------------------------------------------------------------------------- response checks


def server_error(status: int | None, index: int | None = None) -> CheckResult:
    """A KIC never answers a 5xx to a request a client can make (scenarios and fuzz alike)."""
    problems = [f"server error {status}"] if status is not None and status >= 500 else []
    return result(NOT_A_SERVER_ERROR, problems, Level.MUST, "< 500", status, index, "Server error")


def api_version(value: str | None, index: int | None = None) -> CheckResult:
    """Every KIC response names its version in the ``API-version`` header (scenarios and fuzz)."""
    present = value if value and value.strip() else None
    problems = [] if present else [f"the {API_VERSION_HEADER} header is missing"]
    return result(
        API_VERSION_CHECK,
        problems,
        Level.MUST,
        "present",
        present,
        index,
        f"{API_VERSION_HEADER} header missing",
    )


def response_received(
    seen: StepExchange, expected: Any = None, level: Level = Level.MUST
) -> CheckResult:
    """The target answered with a complete HTTP response (no refusal, timeout, huge body).

    The runner applies it before the registry: without a response nothing else can be judged.
    """
    response = seen.response
    redirect = response.status is not None and 300 <= response.status < 400
    problems = (
        [response.error] if response.error and not (redirect and not response.truncated) else []
    )
    if response.status is None and not problems:
        problems = ["no response"]
    return result(
        "response_received", problems, level, "a complete HTTP response", response.error, seen.index
    )


def status_code(seen: StepExchange, expected: int | list[int], level: Level) -> CheckResult:
    """The status is the expected one (or one of the expected list)."""
    response = seen.response
    wanted = expected if isinstance(expected, list) else [expected]
    problems = []
    if response.status not in wanted:
        shown = " or ".join(str(s) for s in wanted)
        problems.append(
            f"expected status {shown}, got {response.status}"
            + (f" ({response.error})" if response.error else "")
        )
    return result("status_code", problems, level, expected, response.status, seen.index)


def documented_success(seen: StepExchange) -> list[int] | None:
    """A ``call:`` step without ``expect.status`` expects one of the operation's 2xx codes."""
    if seen.step.kind != "call" or seen.operation is None:
        return None
    return [s for s in seen.operation.documented_statuses() if 200 <= s < 300] or None


def _expected_statuses(seen: StepExchange) -> list[int]:
    wanted = seen.expect.get("status")
    if wanted is None:
        return []
    return [int(s) for s in (wanted if isinstance(wanted, list) else [wanted])]


def not_a_server_error(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """No 5xx, unless the step names that status in ``expect.status`` (a documented 5xx that a
    scenario accepts, e.g. a kic-001 delete the DRC refused)."""
    if seen.response.status in _expected_statuses(seen):
        return None
    return server_error(seen.response.status, seen.index)


def _path_values(seen: StepExchange) -> dict[str, Any] | None:
    path = seen.request.get("path")
    return path if seen.step.kind == "call" and isinstance(path, dict) else None


def api_version_header(seen: StepExchange, expected: Any, level: Level) -> CheckResult:
    """The API-version header; should level only on a 404 to a path outside the API's routes
    (:data:`harness.compat.FRAMEWORK_NOT_FOUND`)."""
    check = api_version(seen.response.header(API_VERSION_HEADER), seen.index)
    if not check.passed and seen.operation is not None:
        point = compat.framework_not_found(
            seen.spec, seen.operation.operation_id, seen.response.status, _path_values(seen)
        )
        if point is not None:
            check.level = Level.SHOULD
            check.message += f" [{point.id}]"
    return check


def _schema_operation(seen: StepExchange, expected: bool | str) -> str | None:
    """The operation ``expect.schema`` validates against: named, or the step's own (``true``,
    the default of a ``call:`` step); None for ``false``."""
    if isinstance(expected, str):
        return expected
    if expected is True and seen.step.kind == "call" and seen.operation is not None:
        return seen.operation.operation_id
    return None


def _judged(seen: StepExchange, operation_id: str) -> compat.Judgement:
    response = seen.response
    return compat.judge_response(
        seen.spec,
        operation_id,
        response.status or 0,
        response.headers,
        response.body,
        request_body=seen.exchange.request_body,
        path_values=_path_values(seen),
    )


def response_schema(seen: StepExchange, expected: bool | str, level: Level) -> CheckResult | None:
    """The response is one the operation documents: status, headers, body schema, as the
    compatibility policy reads them at must level (:func:`harness.compat.judge_response`).

    ``expect.schema`` names the operation to validate against, or is ``true`` (the default of
    a ``call:`` step: its own operation) or ``false``.
    """
    operation_id = _schema_operation(seen, expected)
    if operation_id is None:
        return None
    response = seen.response
    if response.truncated:
        problems = [response.error or "body cut off"]
    else:
        problems = _judged(seen, operation_id).must_texts()
    return result(
        f"response_schema[{operation_id}]", problems, level, operation_id, None, seen.index
    )


def strict_reading(seen: StepExchange, expected: bool | str, level: Level) -> CheckResult | None:
    """What the stricter reading of the contract finds where the compatibility policy accepted
    the reference's behaviour at must level (a blank ``detail``, ...); None when nothing."""
    operation_id = _schema_operation(seen, expected)
    if operation_id is None or seen.response.truncated:
        return None
    deviations = _judged(seen, operation_id).should
    if not deviations:
        return None
    return result(
        f"strict_reading[{operation_id}]",
        [d.text for d in deviations],
        level,
        operation_id,
        sorted({d.point.id for d in deviations}),
        seen.index,
        "Stricter reading of the contract",
    )


def call_step_default(seen: StepExchange) -> bool | None:
    return True if seen.step.kind == "call" else None


def lint_schema_reference(value: Any, spec: Spec) -> list[str]:
    """``expect.schema: <operationId>`` must name an operation of the spec."""
    problem = spec.unknown_operation(value) if isinstance(value, str) else None
    return [f"expect.schema: {problem}"] if problem else []


def body_matches(seen: StepExchange, expected: Any, level: Level) -> CheckResult:
    """The JSON body matches the expected tree (subset for objects)."""
    response = seen.response
    ok, body = response.json()
    if not ok:
        problems = [
            "the response body is not JSON" + (f" ({response.error})" if response.error else "")
        ]
        return result("body", problems, level, matchers.to_json(expected), None, seen.index)
    problems = matchers.match(expected, body)
    return result("body", problems, level, matchers.to_json(expected), body, seen.index)


def headers_match(seen: StepExchange, expected: dict[str, Any], level: Level) -> CheckResult:
    """Each listed header matches (``!absent``: must not be there; names case-insensitive)."""
    problems, found = [], {}
    for name, wanted in expected.items():
        value = seen.response.header(name)
        found[name] = value
        if isinstance(wanted, matchers.Absent):
            if value is not None:
                problems.append(f"header {name}: expected to be absent, got {matchers.show(value)}")
            continue
        if value is None:
            problems.append(f"header {name}: missing")
            continue
        problems.extend(matchers.match(wanted, value, f"header {name}"))
    return result("headers", problems, level, matchers.to_json(expected), found, seen.index)


def _invalid_params(seen: StepExchange) -> list[dict[str, Any]] | None:
    ok, body = seen.response.json()
    found = body.get("invalidParams") if ok and isinstance(body, dict) else None
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else None


def same_param_name(given: Any, wanted: str) -> bool:
    """Names of one field: equal but for case and underscores (``inpA_nummer`` is
    ``inpANummer``, ``non_field_errors`` is ``nonFieldErrors``), so a KIC on another framework
    names the field under test in its own spelling."""

    def plain(name: str) -> str:
        return name.replace("_", "").lower()

    return isinstance(given, str) and plain(given) == plain(wanted)


def invalid_param_names(
    seen: StepExchange, expected: list[dict[str, str]], level: Level
) -> CheckResult:
    """The ValidatieFout names every field under test in ``invalidParams[].name``."""
    given = _invalid_params(seen)
    if given is None:
        problems = ["the response has no invalidParams list"]
    else:
        got = ", ".join(str(p.get("name")) for p in given) or "none"
        problems = [
            f"invalidParams does not name {item['name']} (got {got})"
            for item in expected
            if not any(same_param_name(p.get("name"), item["name"]) for p in given)
        ]
    wanted = [item["name"] for item in expected]
    return result("invalid_param_names", problems, level, wanted, given, seen.index)


def invalid_param_codes(
    seen: StepExchange, expected: list[dict[str, str]], level: Level
) -> CheckResult | None:
    """Every expected ``{name, code}`` appears in invalidParams as the reference spells them."""
    coded = [item for item in expected if "code" in item]
    if not coded:
        return None
    given = _invalid_params(seen)
    if given is None:
        problems = ["the response has no invalidParams list"]
    else:
        got = ", ".join(f"{p.get('name')}/{p.get('code')}" for p in given) or "none"
        problems = [
            f"invalidParams lacks {item['name']}/{item['code']} (got {got})"
            for item in coded
            if not any(
                p.get("name") == item["name"] and p.get("code") == item["code"] for p in given
            )
        ]
    return result("invalid_param_codes", problems, level, coded, given, seen.index)


def error_code(seen: StepExchange, expected: str, level: Level) -> CheckResult:
    """The Fout's ``code`` is the expected one."""
    ok, body = seen.response.json()
    actual = body.get("code") if ok and isinstance(body, dict) else None
    problems = (
        []
        if actual == expected
        else [f"expected error code {matchers.show(expected)}, got {matchers.show(actual)}"]
    )
    return result("error_code", problems, level, expected, actual, seen.index)


def capture_failed(name: str, problem: str, level: Level, index: int | None) -> CheckResult:
    """A ``save`` capture could not be read from the response."""
    return result(f"save[{name}]", [problem], level, None, None, index)


# --------------------------------------------------------------------------- invariants
#
# Checks every exchange gets, whatever the scenario says (entries without a key in
# RESPONSE_CHECKS). Each reads what it needs from the spec, so no scenario lists fields.

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_schemas: dict[int, tuple[Spec, Schemas]] = {}


def schemas_of(spec: Spec) -> Schemas:
    """The schema questions of one spec (made once per spec)."""
    cached = _schemas.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = (spec, Schemas(spec))
        _schemas[id(spec)] = cached
    return cached[1]


def _json_body(seen: StepExchange) -> tuple[bool, Any]:
    return seen.response.json() if not seen.response.truncated else (False, None)


def _documented_schema(seen: StepExchange) -> Any:
    """The schema the response is documented with, when the step validates one (else None)."""
    wanted = seen.expect.get("schema", True)
    if isinstance(wanted, str):
        operation: Operation | None = seen.spec.operations.get(wanted)
    elif wanted is True and seen.step.kind == "call":
        operation = seen.operation
    else:
        operation = None
    doc = operation.response_for(seen.response.status or 0) if operation else None
    return doc.schema if doc else None


def _written(seen: StepExchange) -> tuple[Any, dict[str, Any]] | None:
    """(request schema, answer) of a successful POST/PUT/PATCH with a JSON object answer."""
    status = seen.response.status or 0
    operation = seen.operation
    if seen.method not in ("POST", "PUT", "PATCH") or not 200 <= status < 300 or not operation:
        return None
    ok, body = _json_body(seen)
    return (operation.request_schema, body) if ok and isinstance(body, dict) else None


def write_carries_sent(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """A write's 2xx answer carries every value sent (by the rules of :mod:`harness.compare`)."""
    written = _written(seen)
    sent = seen.body_sent
    if written is None or not isinstance(sent, dict) or written[0] is None:
        return None
    schema, body = written
    problems, _ = schemas_of(seen.spec).carried(sent, body, schema)
    return result(
        "write_carries_sent",
        problems,
        level,
        "the values sent",
        None,
        seen.index,
        "Write answer lacks values sent",
    )


def read_matches_write(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """The next read of a written object's ``url`` answers what the write answered.

    The harness makes that read itself, right after the write (recorded in the case).
    """
    written = _written(seen)
    url = written[1].get("url") if written else None
    if written is None or not isinstance(url, str) or seen.follow is None:
        return None
    followed = seen.follow(url)
    if followed is None:
        return None  # not under the API root: urls_under_api_root says so
    response, index = followed
    ok, read = response.json()
    if response.status != 200 or not ok:
        problems = [f"GET {url} (exchange {index + 1}) answered {response.status}, not 200 + JSON"]
    else:
        doc = seen.operation.response_for(seen.response.status or 0) if seen.operation else None
        differences = schemas_of(seen.spec).differences(written[1], read, doc.schema if doc else {})
        problems = [f"GET {url} (exchange {index + 1}) differs: {d}" for d in differences]
    return result(
        "read_matches_write",
        problems,
        level,
        "the write's answer",
        None,
        seen.index,
        "Read differs from the write",
    )


def location_is_url(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """A 201's ``Location`` (when given) is the created object's ``url``."""
    location = seen.response.header("Location")
    ok, body = _json_body(seen)
    url = body.get("url") if ok and isinstance(body, dict) else None
    if seen.response.status != 201 or location is None or not isinstance(url, str):
        return None
    absolute = urljoin(seen.exchange.url, location.strip())
    same = normalise_url(absolute) == normalise_url(url)
    problems = [] if same else [f"Location {location} is not the url {url}"]
    return result(
        "location_is_url", problems, level, url, location, seen.index, "Location is not url"
    )


def urls_under_api_root(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """Every object's ``url`` and every link to the KIC's own resources lies under the API
    root the client used (a KIC behind a proxy must not hand out its inner address)."""
    ok, body = _json_body(seen)
    if not ok or not seen.api_root:
        return None
    outside = [
        f"{path}: {url}"
        for path, url in schemas_of(seen.spec).links(body)
        if not under(url, seen.api_root)
    ]
    problems = [f"not under {seen.api_root}: " + ", ".join(outside[:5])] if outside else []
    return result(
        "urls_under_api_root",
        problems,
        level,
        seen.api_root,
        outside[:20],
        seen.index,
        "URL outside the API root",
    )


def no_undocumented_fields(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """The answer holds no property its schema does not define: the standard allows no
    extensions "in any form"."""
    schema = _documented_schema(seen)
    ok, body = _json_body(seen)
    if schema is None or not ok:
        return None
    extra = schemas_of(seen.spec).undocumented(schema, body)
    problems = [f"properties the schema does not define: {', '.join(extra[:10])}"] if extra else []
    return result(
        "no_undocumented_fields",
        problems,
        level,
        "documented properties only",
        extra[:20],
        seen.index,
        "Undocumented field",
    )


def variant_schema(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """A discriminated object (a klant) matches the variant its discriminator names: the
    ``subjectIdentificatie`` of a ``vestiging`` is a Vestiging."""
    schema = _documented_schema(seen)
    ok, body = _json_body(seen)
    if schema is None or not ok:
        return None
    problems, variants = [], []
    for path, name, part, instance in schemas_of(seen.spec).variant_parts(schema, body):
        variants.append(name)
        problems.extend(f"{path} as {name}: {p}" for p in seen.spec.validate_schema(part, instance))
    if not variants:
        return None
    return result(
        "variant_schema",
        problems,
        level,
        sorted(set(variants)),
        None,
        seen.index,
        "Object does not match its variant",
    )


def _content_type_judgement(seen: StepExchange) -> tuple[compat.Judgement, str | None, list[str]]:
    """The compatibility policy's reading of the response's Content-Type (one code path with
    the fuzz phase); an error status the operation does not document may be any JSON type."""
    response = seen.response
    given = response.header("Content-Type")
    media = (given or "").split(";")[0].strip().lower() or None
    status = response.status or 0
    doc = seen.operation.response_for(status) if seen.operation else None
    documented = list(doc.media_types) if doc and doc.media_types else []
    if not documented and status >= 400:
        documented = list(compat.ERROR_MEDIA_TYPES)
    unrouted = bool(
        seen.operation
        and compat.framework_not_found(
            seen.spec, seen.operation.operation_id, status, _path_values(seen)
        )
    )
    judgement = compat.judge_content_type(status, media, documented, unrouted=unrouted)
    return judgement, given, documented


def content_type(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """A body comes with its documented Content-Type (an error: JSON or problem+JSON), as the
    compatibility policy reads it at must level."""
    if not seen.response.body.strip():
        return None
    judgement, given, documented = _content_type_judgement(seen)
    problems = judgement.must_texts()
    if not documented and not given:
        problems = ["the response has a body but no (or a blank) Content-Type"]
    shown = sorted(documented) if documented else "present"
    return result("content_type", problems, level, shown, given, seen.index, "Content-Type")


def content_type_strict(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """The stricter reading of the Content-Type that the policy accepts at must level (plain
    ``application/json`` for an error documented as ``application/problem+json``)."""
    if not seen.response.body.strip():
        return None
    judgement, _, documented = _content_type_judgement(seen)
    if not judgement.should:
        return None
    return result(
        "content_type_strict",
        [d.problem for d in judgement.should],
        level,
        sorted(documented),
        sorted({d.point.id for d in judgement.should}),
        seen.index,
        "Stricter reading of the contract",
    )


@dataclass(frozen=True)
class Snapshot:
    """What a write the step expects to be refused could change, read just before it.

    ``url`` is the object (PUT, PATCH, DELETE) or its collection's list (POST; narrowed by a
    documented filter when the body links to one of the KIC's objects, to keep it small).
    """

    url: str
    status: int | None
    body: Any
    collection: bool


def probe_url(
    method: str, url: str, data: dict[str, Any], spec: Spec, api_root: str, unique: str = ""
) -> tuple[str, bool] | None:
    """What to read before a write the step expects to be refused (every expected status a
    4xx): ``(url, is a list)``, or None when the step is no such write.

    A refused POST is judged only when its body holds a value no other scenario sends (one
    holding the scenario's ``unique`` token, or a link to an object of the KIC): other
    scenarios create objects in the same collections meanwhile, and only such a value tells
    an object this write created from theirs.
    """
    wanted = (data.get("expect") or {}).get("status")
    statuses = wanted if isinstance(wanted, list) else [wanted] if wanted is not None else []
    if method.upper() not in WRITE_METHODS or not statuses:
        return None
    if not all(isinstance(s, int) and 400 <= s < 500 for s in statuses):
        return None
    target = url.split("?", 1)[0]
    if method.upper() != "POST":
        return target, False
    if not any(
        (unique and unique in value) or under(value, api_root)
        for value in _strings(data.get("body"))
    ):
        return None
    inside = under(target, api_root)
    listing = spec.find_operation("GET", target[len(api_root) :]) if inside else None
    body = data.get("body")
    filters = {}
    if listing is not None and isinstance(body, dict):
        for parameter in listing.parameters:
            value = body.get(parameter.name)
            if parameter.location == "query" and isinstance(value, str) and under(value, api_root):
                filters[parameter.name] = value
                break
    return (f"{target}?{urlencode(filters)}" if filters else target), True


def _strings(value: Any) -> list[str]:
    """Every string in a JSON tree."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def take_snapshot(probe: tuple[str, bool], follow: Callable[[str], Any]) -> Snapshot | None:
    """Read what ``probe`` names (through the step's ``follow``)."""
    followed = follow(probe[0])
    if followed is None:
        return None
    response, _ = followed
    ok, body = response.json()
    return Snapshot(probe[0], response.status, body if ok else None, probe[1])


def refused_write_unchanged(seen: StepExchange, expected: Any, level: Level) -> CheckResult | None:
    """A write answered with a 4xx changed nothing: the object reads the same, or the list
    gained no object carrying what was sent."""
    before, status = seen.before, seen.response.status or 0
    if before is None or seen.follow is None or not 400 <= status < 500:
        return None
    followed = seen.follow(before.url)
    if followed is None:
        return None
    response, index = followed
    ok, after = response.json()
    after = after if ok else None
    where = f"GET {before.url} (exchange {index + 1})"
    schemas = schemas_of(seen.spec)
    if not before.collection:
        if response.status != before.status:
            problems = [f"{where}: {before.status} before the refusal, {response.status} after"]
        elif response.status == 200:
            problems = [f"{where}: {d}" for d in schemas.differences(before.body, after, {})[:5]]
        else:
            problems = []  # still absent (or still refused): an error body's instance varies
        return result(
            "refused_write_unchanged",
            problems,
            level,
            before.body,
            after,
            seen.index,
            "Refused write changed the object",
        )
    sent = seen.body_sent
    if before.status != 200 or response.status != 200 or not isinstance(sent, dict):
        return None
    if not isinstance(before.body, list) or not isinstance(after, list):
        return None
    schema = (seen.operation.request_schema if seen.operation else None) or {}
    if not schemas.carried(sent, {}, schema)[1]:
        return None  # nothing sent tells a new object apart (other scenarios create too)
    known = {item.get("url") for item in before.body if isinstance(item, dict)}
    new = [
        item.get("url")
        for item in after
        if isinstance(item, dict)
        and item.get("url") not in known
        and not schemas.carried(sent, item, schema)[0]
    ]
    problems = (
        [f"{where} lists a new object carrying what was sent: {', '.join(map(str, new[:3]))}"]
        if new
        else []
    )
    return result(
        "refused_write_unchanged",
        problems,
        level,
        "no new object",
        new,
        seen.index,
        "Refused write created an object",
    )


# --------------------------------------------------------------------------- DRC checks


def _journal_matches(entry: dict[str, Any], expectation: dict[str, Any], path: str | None) -> bool:
    method = expectation.get("method")
    if method and str(entry.get("method", "")).upper() != str(method).upper():
        return False
    if path is not None and not _under_path(str(entry.get("path", "")).rstrip("/"), path):
        return False
    if "query" in expectation and matchers.match(expectation["query"], entry.get("query") or {}):
        return False
    if "json" in expectation:
        return not matchers.match(expectation["json"], entry.get("body"))
    return True


def _under_path(requested: str, path: str) -> bool:
    """The request went to ``path`` or below it: a collection path covers its items (a
    ``not_received`` of DELETE on ``objectinformatieobjecten`` covers every mirror)."""
    return requested == path or requested.startswith(path + "/")


def _journal_view(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) for k in ("id", "method", "path", "query", "body", "status")}


def _journal_hits(view: DrcView, expectation: dict[str, Any]) -> list[dict[str, Any]]:
    path = documents_path(str(expectation["path"])).rstrip("/") if expectation.get("path") else None
    return [e for e in view.journal if _journal_matches(e, expectation, path)]


def drc_received(view: DrcView, expectation: dict[str, Any], level: Level) -> CheckResult:
    """The DRC got a matching request during the scenario (``count``: exactly that many)."""
    entries = view.journal
    hits = _journal_hits(view, expectation)
    problems = []
    if "count" in expectation and len(hits) != expectation["count"]:
        problems.append(f"expected {expectation['count']} matching DRC request(s), got {len(hits)}")
    elif "count" not in expectation and not hits:
        problems.append(
            f"the DRC received no {expectation.get('method', '')} request to "
            f"{expectation.get('path', 'any path')} matching the expectation "
            f"({len(entries)} request(s) in this scenario)"
        )
    described = {k: matchers.to_json(v) for k, v in expectation.items()}
    actual = [_journal_view(e) for e in (hits or entries)][:20]
    return result("drc_received", problems, level, described, actual)


def drc_not_received(view: DrcView, expectation: dict[str, Any], level: Level) -> CheckResult:
    """The DRC got no matching request during the scenario."""
    hits = _journal_hits(view, expectation)
    problems = [f"the DRC received {len(hits)} request(s) it should not have"] if hits else []
    described = {k: matchers.to_json(v) for k, v in expectation.items()}
    return result(
        "drc_not_received", problems, level, described, [_journal_view(e) for e in hits][:20]
    )


def drc_mirrors(view: DrcView, expectation: dict[str, Any], level: Level) -> CheckResult:
    """The DRC's objectinformatieobjecten contain / do not contain / count what is expected."""
    mirrors = view.mirrors
    problems = []
    if "contains" in expectation and not any(
        not matchers.match(expectation["contains"], m) for m in mirrors
    ):
        problems.append("no DRC mirror matches the expected relation")
    if "not_contains" in expectation:
        hits = [m for m in mirrors if not matchers.match(expectation["not_contains"], m)]
        if hits:
            problems.append(f"{len(hits)} DRC mirror(s) match a relation that must be gone")
    if "count" in expectation:
        where = expectation.get("where")
        chosen = [m for m in mirrors if where is None or not matchers.match(where, m)]
        if len(chosen) != expectation["count"]:
            problems.append(f"expected {expectation['count']} DRC mirror(s), found {len(chosen)}")
    relevant = mirrors
    for key in ("contains", "not_contains", "where"):
        if isinstance(expectation.get(key), dict) and "object" in expectation[key]:
            obj = expectation[key]["object"]
            relevant = [m for m in mirrors if m.get("object") == obj] or relevant
    return result("drc_mirrors", problems, level, matchers.to_json(expectation), relevant[:20])


def _urls(urls: list[str]) -> str:
    """A list of document URLs in a message: JSON, long enough to name several."""
    return matchers.show(urls, limit=600)


def _mirrors_eventually(expectation: dict[str, Any]) -> bool:
    return "contains" in expectation and "not_contains" not in expectation


#: How long ``mirrored`` waits for the KIC and its DRCs to agree when ``within`` is not given.
MIRRORED_WITHIN = 10.0


def drc_mirrored(view: DrcView, expectation: dict[str, Any], level: Level) -> CheckResult:
    """kic-001 both ways for one verzoek: every relation the KIC lists has exactly one mirror
    in the run's DRCs, and every mirror of the verzoek there has its relation in the KIC."""
    verzoek = expectation["verzoek"]
    described = matchers.to_json(expectation)
    if view.relations is None:
        return result("drc_mirrored", ["no way to read the KIC's relations"], level, described)
    relations, problem = view.relations(verzoek)
    if relations is None:
        return result("drc_mirrored", [problem or "the KIC's relations are unknown"], level)
    listed = [r.get("informatieobject") for r in relations if isinstance(r, dict)]
    mirrored = [m.get("informatieobject") for m in view.all_mirrors if m.get("object") == verzoek]
    problems = []
    missing = sorted({str(d) for d in listed if d not in mirrored})
    if missing:
        problems.append(
            f"{len(missing)} relation(s) the KIC lists have no DRC mirror: {_urls(missing)}"
        )
    orphans = sorted({str(d) for d in mirrored if d not in listed})
    if orphans:
        problems.append(
            f"{len(orphans)} DRC mirror(s) have no relation in the KIC: {_urls(orphans)}"
        )
    doubled = sorted({str(d) for d in mirrored if mirrored.count(d) > 1})
    if doubled:
        problems.append(f"more than one DRC mirror of the same relation: {_urls(doubled)}")
    actual = {"relations": listed, "mirrors": mirrored}
    return result("drc_mirrored", problems, level, described, actual)


def _mirrored_patience(expectation: dict[str, Any]) -> float:
    return float(expectation.get("within", MIRRORED_WITHIN))


# --------------------------------------------------------------------------- the registries


@dataclass(frozen=True)
class Expectation:
    """One registry entry: which key turns a check on, at which level, and its defaults.

    ``key`` None: the check runs on every exchange (an invariant), at ``level``.
    ``level`` None: the step's level (else the scenario's); ``expect.levels`` overrides it.
    ``default``: the expected value when the step does not give the key (None: skip).
    ``check`` is the function, ``check(seen, expected, level)``.
    ``gates``: a failure stops the scenario after this step's checks (later steps need it);
    a function of the :class:`StepExchange` when that depends on the step.
    ``lint``: problems of the key's value that only the spec can tell (for the linter).
    ``name``: what ``expect.levels`` calls it, when one key turns on several checks
    (``invalid_params``: the names at must level, the codes at reference level); else the key.
    """

    key: str | None
    check: Callable[[Any, Any, Level], CheckResult | None]
    level: Level | None = None
    default: Callable[[Any], Any] | None = None
    gates: bool | Callable[[Any], bool] = False
    lint: Callable[[Any, Spec], list[str]] | None = None
    name: str | None = None

    @property
    def level_key(self) -> str | None:
        """The key of ``expect.levels`` that overrides this entry's level."""
        return self.name or self.key

    def stops(self, seen: Any, outcome: CheckResult) -> bool:
        """Whether ``outcome`` of this check stops the scenario after the step's checks."""
        if outcome.passed:
            return False
        return self.gates(seen) if callable(self.gates) else self.gates

    def expected(self, seen: Any, given: dict[str, Any]) -> Any:
        """The value to check against: the step's, else the default, else :data:`NOT_GIVEN`."""
        if self.key is None:
            return True
        if self.key in given:
            return given[self.key]
        value = self.default(seen) if self.default is not None else None
        return NOT_GIVEN if value is None else value


def unless_a_refusal_is_expected(seen: StepExchange) -> bool:
    """A wrong status stops the scenario, except where the step expects a refusal (only
    statuses >= 400): the steps after a refusal check that nothing changed, which is what
    matters most when the KIC did not refuse (a kic-001 delete the DRC failed, say)."""
    statuses = _expected_statuses(seen)
    return not (statuses and all(s >= 400 for s in statuses))


RESPONSE_CHECKS: tuple[Expectation, ...] = (
    Expectation(
        "status", status_code, default=documented_success, gates=unless_a_refusal_is_expected
    ),
    Expectation(None, not_a_server_error, Level.MUST),
    Expectation(None, api_version_header, Level.MUST),
    Expectation(
        "schema", response_schema, Level.MUST, call_step_default, lint=lint_schema_reference
    ),
    Expectation("schema", strict_reading, Level.SHOULD, call_step_default),
    Expectation("body", body_matches),
    Expectation("headers", headers_match),
    Expectation("invalid_params", invalid_param_names, name="invalid_param_names"),
    Expectation("invalid_params", invalid_param_codes, Level.REFERENCE, name="invalid_param_codes"),
    Expectation("error_code", error_code, Level.REFERENCE),
    # Invariants of every exchange (harness/compare.py holds the comparison rules).
    Expectation(None, content_type, Level.MUST),
    Expectation(None, content_type_strict, Level.SHOULD),
    Expectation(None, no_undocumented_fields, Level.MUST),
    Expectation(None, variant_schema, Level.MUST),
    Expectation(None, urls_under_api_root, Level.MUST),
    Expectation(None, location_is_url, Level.MUST),
    Expectation(None, write_carries_sent, Level.MUST),
    Expectation(None, read_matches_write, Level.MUST),
    Expectation(None, refused_write_unchanged, Level.MUST),
)


@dataclass(frozen=True)
class DrcExpectation:
    """One ``drc_expect`` key: its check and whether the DRC may still be catching up.

    A DRC expectation that can come true later (the KIC mirrors asynchronously) is retried a
    few times before it fails; one that asserts an absence is judged at once. ``patience``,
    when given, is how many seconds at least to keep retrying (``mirrored``: its ``within``).
    """

    key: str
    check: Callable[[DrcView, Any, Level], CheckResult]
    eventually: Callable[[Any], bool]
    patience: Callable[[Any], float] | None = None


DRC_CHECKS: tuple[DrcExpectation, ...] = (
    DrcExpectation("received", drc_received, lambda expectation: True),
    DrcExpectation("not_received", drc_not_received, lambda expectation: False),
    DrcExpectation("mirrors", drc_mirrors, _mirrors_eventually),
    DrcExpectation("mirrored", drc_mirrored, lambda expectation: True, _mirrored_patience),
)

#: The keys of ``expect`` (``levels`` aside) and of ``drc_expect``, from the registries.
EXPECT_KEYS = frozenset(e.key for e in RESPONSE_CHECKS if e.key is not None)
#: The keys ``expect.levels`` takes: one per check a key turns on.
LEVEL_KEYS = frozenset(e.level_key for e in RESPONSE_CHECKS if e.level_key is not None)
DRC_EXPECT_KEYS = frozenset(e.key for e in DRC_CHECKS)


def lint_expect(expect: dict[str, Any], spec: Spec) -> list[str]:
    """What the spec says is wrong with a step's ``expect`` (the registry entries' ``lint``)."""
    problems: list[str] = []
    for entry in RESPONSE_CHECKS:
        if entry.key in expect and entry.lint is not None:
            problems.extend(entry.lint(expect[entry.key], spec))
    return problems
