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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import compat, matchers
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

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[self.index]

    @property
    def earlier(self) -> tuple[Exchange, ...]:
        """The scenario's exchanges before this one (a write before this read, say)."""
        return self.exchanges[: self.index]

    @property
    def expect(self) -> dict[str, Any]:
        return self.request.get("expect") or {}


@dataclass
class DrcView:
    """What a ``drc_expect`` check looks at: the mock DRC's journal since the scenario began
    and its mirrors, each fetched once per view and only when a check asks."""

    drc: DrcControl
    since: int | None

    @functools.cached_property
    def journal(self) -> list[dict[str, Any]]:
        return self.drc.journal(since=self.since)

    @functools.cached_property
    def mirrors(self) -> list[dict[str, Any]]:
        return self.drc.mirrors()


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
                problems.append(f"header {name}: expected to be absent, got {value!r}")
            continue
        if value is None:
            problems.append(f"header {name}: missing")
            continue
        problems.extend(matchers.match(wanted, value, f"header {name}"))
    return result("headers", problems, level, matchers.to_json(expected), found, seen.index)


def invalid_params(seen: StepExchange, expected: list[dict[str, str]], level: Level) -> CheckResult:
    """Every expected ``{name, code}`` appears in the ValidatieFout's invalidParams."""
    ok, body = seen.response.json()
    found = body.get("invalidParams") if ok and isinstance(body, dict) else None
    if not isinstance(found, list):
        problems = ["the response has no invalidParams list"]
    else:
        given = [p for p in found if isinstance(p, dict)]
        got = ", ".join(f"{p.get('name')}/{p.get('code')}" for p in given) or "none"
        problems = [
            f"invalidParams lacks {item['name']}/{item.get('code', '*')} (got {got})"
            for item in expected
            if not any(
                p.get("name") == item["name"]
                and ("code" not in item or p.get("code") == item["code"])
                for p in given
            )
        ]
    return result("invalid_params", problems, level, expected, found, seen.index)


def error_code(seen: StepExchange, expected: str, level: Level) -> CheckResult:
    """The Fout's ``code`` is the expected one."""
    ok, body = seen.response.json()
    actual = body.get("code") if ok and isinstance(body, dict) else None
    problems = [] if actual == expected else [f"expected error code {expected!r}, got {actual!r}"]
    return result("error_code", problems, level, expected, actual, seen.index)


def capture_failed(name: str, problem: str, level: Level, index: int | None) -> CheckResult:
    """A ``save`` capture could not be read from the response."""
    return result(f"save[{name}]", [problem], level, None, None, index)


# --------------------------------------------------------------------------- DRC checks


def _journal_matches(entry: dict[str, Any], expectation: dict[str, Any], path: str | None) -> bool:
    method = expectation.get("method")
    if method and str(entry.get("method", "")).upper() != str(method).upper():
        return False
    if path is not None and not str(entry.get("path", "")).rstrip("/").endswith(path):
        return False
    if "query" in expectation and matchers.match(expectation["query"], entry.get("query") or {}):
        return False
    if "json" in expectation:
        return not matchers.match(expectation["json"], entry.get("body"))
    return True


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


def _mirrors_eventually(expectation: dict[str, Any]) -> bool:
    return "contains" in expectation and "not_contains" not in expectation


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
    """

    key: str | None
    check: Callable[[Any, Any, Level], CheckResult | None]
    level: Level | None = None
    default: Callable[[Any], Any] | None = None
    gates: bool | Callable[[Any], bool] = False
    lint: Callable[[Any, Spec], list[str]] | None = None

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
    Expectation("invalid_params", invalid_params, Level.REFERENCE),
    Expectation("error_code", error_code, Level.REFERENCE),
)


@dataclass(frozen=True)
class DrcExpectation:
    """One ``drc_expect`` key: its check and whether the DRC may still be catching up.

    A DRC expectation that can come true later (the KIC mirrors asynchronously) is retried a
    few times before it fails; one that asserts an absence is judged at once.
    """

    key: str
    check: Callable[[DrcView, Any, Level], CheckResult]
    eventually: Callable[[Any], bool]


DRC_CHECKS: tuple[DrcExpectation, ...] = (
    DrcExpectation("received", drc_received, lambda expectation: True),
    DrcExpectation("not_received", drc_not_received, lambda expectation: False),
    DrcExpectation("mirrors", drc_mirrors, _mirrors_eventually),
)

#: The keys of ``expect`` (``levels`` aside) and of ``drc_expect``, from the registries.
EXPECT_KEYS = frozenset(e.key for e in RESPONSE_CHECKS if e.key is not None)
DRC_EXPECT_KEYS = frozenset(e.key for e in DRC_CHECKS)


def lint_expect(expect: dict[str, Any], spec: Spec) -> list[str]:
    """What the spec says is wrong with a step's ``expect`` (the registry entries' ``lint``)."""
    problems: list[str] = []
    for entry in RESPONSE_CHECKS:
        if entry.key in expect and entry.lint is not None:
            problems.extend(entry.lint(expect[entry.key], spec))
    return problems
