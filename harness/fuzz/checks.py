"""The checks every fuzzed exchange goes through, one small named function each.

A response is judged as the scenario phase judges it: through :mod:`harness.compat`, the
compatibility policy (:func:`~harness.compat.judge_response` for status, headers and body,
:func:`~harness.compat.judge_content_type` for the Content-Type), so a response that passes a
scenario passes here and the other way round. What the policy accepts at must level but the
stricter reading does not comes out as a should-level finding titled by the policy's point.
``not_a_server_error`` and ``api_version_header`` are the scenario runner's own invariants
(:func:`harness.checks.server_error`, :func:`harness.checks.api_version`), applied to the
fuzzed response. schemathesis still does ``negative_data_rejection``; the KIC-specific part is
ours: invalid data is rejected with exactly 400 when only the body was invalid (a 422 or a 404
is not what the standard says), and a query whose only invalid values are empty need not be
rejected (:data:`harness.compat.BLANK_QUERY_VALUE`). A check returns its failures as
:class:`~harness.results.CheckResult` objects with a ``title`` naming the kind of failure
(empty list: passed).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemathesis import Case, Response
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    negative_data_rejection as st_negative_data_rejection,
)

from harness import checks as scenario_checks
from harness import compat
from harness.results import CheckResult, Level
from harness.spec import Spec
from zgw.errors import API_VERSION_HEADER


def failure(
    name: str, title: str, message: str, expected: Any = None, actual: Any = None
) -> CheckResult:
    """One must-level failure of check ``name``, of the kind ``title``."""
    return CheckResult(name, False, Level.MUST, message, expected, actual, title=title)


def deviation(name: str, found: compat.Deviation) -> CheckResult:
    """A should-level finding of check ``name``: the stricter reading of one policy point."""
    return CheckResult(
        name, False, Level.SHOULD, found.text, found.point.strict, title=found.point.title
    )


@dataclass
class Exchanged:
    """What a check looks at: the case, the response, the headers we sent and the contract."""

    case: Case
    response: Response
    headers: dict[str, str]
    spec: Spec
    operation_id: str

    @functools.cached_property
    def judgement(self) -> compat.Judgement:
        """The policy's judgement of status, headers and body (see :mod:`harness.compat`)."""
        response = self.response
        return compat.judge_response(
            self.spec,
            self.operation_id,
            response.status_code,
            {name: ", ".join(values) for name, values in response.headers.items()},
            response.content,
            request_body=response.request.body,
            path_values=self.case.path_parameters,
        )

    @property
    def unrouted(self) -> bool:
        """A 404 to a path outside the API's routes (:data:`compat.FRAMEWORK_NOT_FOUND`)."""
        point = compat.framework_not_found(
            self.spec, self.operation_id, self.response.status_code, self.case.path_parameters
        )
        return point is not None


CheckFunction = Callable[[Exchanged], list[CheckResult]]


def _run_builtin(name: str, builtin: Any, ex: Exchanged) -> list[CheckResult]:
    """Run one schemathesis check on the exchange and turn its failures into findings."""
    try:
        ex.case.validate_response(ex.response, checks=[builtin], headers=ex.headers)
    except FailureGroup as group:
        return [_finding(name, f) for f in group.exceptions]
    except Failure as found:
        return [_finding(name, found)]
    return []


def _finding(name: str, found: Failure) -> CheckResult:
    return failure(name, str(found.title), str(found.message))


def _failed(check: CheckResult) -> list[CheckResult]:
    return [] if check.passed else [check]


def _judged(name: str, title: str, ex: Exchanged, aspect: str) -> list[CheckResult]:
    """The must problems of ``aspect`` as one failure, and each deviation as a finding."""
    findings = [deviation(name, d) for d in ex.judgement.should_for(aspect)]
    problems = ex.judgement.must_texts(aspect)
    if problems:
        findings.insert(0, failure(name, title, "; ".join(problems)))
    return findings


def not_a_server_error(ex: Exchanged) -> list[CheckResult]:
    """No 5xx, whatever was sent."""
    return _failed(scenario_checks.server_error(ex.response.status_code))


def status_code_conformance(ex: Exchanged) -> list[CheckResult]:
    """The status is one the operation documents."""
    return _judged("status_code_conformance", "Undocumented HTTP status code", ex, "status")


def content_type_conformance(ex: Exchanged) -> list[CheckResult]:
    """The Content-Type is the documented one (errors: application/json too, at must level)."""
    response = ex.response
    doc = ex.spec.operation(ex.operation_id).response_for(response.status_code)
    judgement = compat.judge_content_type(
        response.status_code,
        _media_type(response),
        doc.media_types if doc is not None else (),
        has_body=bool(response.content.strip()),
        unrouted=ex.unrouted,
    )
    name = "content_type_conformance"
    findings = [deviation(name, d) for d in judgement.should]
    if judgement.must:
        findings.insert(0, failure(name, "Undocumented Content-Type", judgement.must_texts()[0]))
    return findings


def response_schema_conformance(ex: Exchanged) -> list[CheckResult]:
    """The body is the documented one for the status, as the compatibility policy reads it."""
    name = "response_schema_conformance"
    return _judged(name, "Response violates schema", ex, "body")


def response_headers_conformance(ex: Exchanged) -> list[CheckResult]:
    """Documented response headers are present (when required) and match their schemas."""
    name = "response_headers_conformance"
    return _judged(name, "Response header does not conform to the schema", ex, "header")


def api_version_header(ex: Exchanged) -> list[CheckResult]:
    """Every KIC response names the API version in the ``API-version`` header; on a 404 to a
    path outside the API's routes that is a should (:data:`compat.FRAMEWORK_NOT_FOUND`)."""
    values = ex.response.headers.get(API_VERSION_HEADER.lower()) or []
    check = scenario_checks.api_version(values[0] if values else None)
    if check.passed:
        return []
    if ex.unrouted:
        found = compat.Deviation(compat.FRAMEWORK_NOT_FOUND, check.message, "header")
        return [deviation(check.name, found)]
    return [check]


def negative_data_rejection(ex: Exchanged) -> list[CheckResult]:
    """Invalid data is refused: 400 for an invalid body, 400 or 404 for invalid parameters.

    A query whose only invalid values are empty need not be refused
    (:data:`compat.BLANK_QUERY_VALUE`): accepting it is a should-level finding.
    """
    meta = ex.case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return []
    negated = {loc for loc, comp in meta.components.items() if comp.mode.is_negative}
    if _only_required_dropped_from_patch(ex.case, negated):
        return []
    name = "negative_data_rejection"
    if negated == {ParameterLocation.QUERY} and compat.blank_query_only(
        ex.spec, ex.operation_id, ex.case.query or {}
    ):
        status = ex.response.status_code
        if status in (400, 404):
            return []
        if status < 400:
            problem = f"an empty query value was answered {status}, not refused with 400"
            return [deviation(name, compat.Deviation(compat.BLANK_QUERY_VALUE, problem, "status"))]
    expected = ["400"] if negated <= {ParameterLocation.BODY} else ["400", "404"]
    config = ex.case.operation.schema.config.checks.negative_data_rejection
    config.expected_statuses = expected
    findings = _run_builtin(name, st_negative_data_rejection, ex)
    return [
        dataclasses.replace(f, expected=" or ".join(expected), actual=ex.response.status_code)
        for f in findings
    ]


def _only_required_dropped_from_patch(case: Case, negated: set[ParameterLocation]) -> bool:
    """A PATCH is a partial update: leaving out a required property is valid there."""
    if case.method.upper() != "PATCH" or negated != {ParameterLocation.BODY}:
        return False
    mutations = getattr(case.meta.phase.data, "mutations", ()) if case.meta else ()
    return bool(mutations) and all(set(m.keywords) == {"required"} for m in mutations)


def _media_type(response: Response) -> str | None:
    values = response.headers.get("content-type") or []
    if not values:
        return None
    return values[0].split(";", 1)[0].strip().lower()


#: Every check, in report order.
CHECKS: tuple[CheckFunction, ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    api_version_header,
    negative_data_rejection,
)
CHECK_NAMES: tuple[str, ...] = tuple(check.__name__ for check in CHECKS)
#: Judged by the runner itself: a request that got no response within the run's timeout.
ANSWERS_IN_TIME = "answers_in_time"
#: Every check name a fuzz case reports, in report order.
ALL_CHECK_NAMES: tuple[str, ...] = (*CHECK_NAMES, ANSWERS_IN_TIME)


def run_checks(ex: Exchanged) -> list[CheckResult]:
    """Every finding of every check on one exchange."""
    findings: list[CheckResult] = []
    for check in CHECKS:
        findings.extend(check(ex))
    return findings
