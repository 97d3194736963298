"""The checks every fuzzed exchange goes through, one small named function each.

Where schemathesis has the check built in it does the work (``status_code_conformance``,
``response_schema_conformance``, ``response_headers_conformance``, ``negative_data_rejection``);
the KIC-specific parts are ours: error bodies may be ``application/json`` as well as
``application/problem+json`` (the reference implementation sends the former), and invalid data
is rejected with exactly 400 when only the body was invalid (a 422 or a 404 is not what the
standard says). ``not_a_server_error`` and ``api_version_header`` are the scenario runner's own
invariants (:func:`harness.checks.server_error`, :func:`harness.checks.api_version`), applied
to the fuzzed response. A check returns its failures as :class:`~harness.results.CheckResult`
objects with a ``title`` naming the kind of failure (empty list: passed).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemathesis import APIOperation, Case, Response
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance as st_content_type_conformance,
)
from schemathesis.specs.openapi.checks import (
    negative_data_rejection as st_negative_data_rejection,
)
from schemathesis.specs.openapi.checks import (
    response_headers_conformance as st_response_headers_conformance,
)
from schemathesis.specs.openapi.checks import (
    response_schema_conformance as st_response_schema_conformance,
)
from schemathesis.specs.openapi.checks import (
    status_code_conformance as st_status_code_conformance,
)

from harness import checks as scenario_checks
from harness.results import CheckResult, Level
from zgw.errors import API_VERSION_HEADER, JSON, PROBLEM_JSON

ERROR_MEDIA_TYPES = (JSON, PROBLEM_JSON)


def failure(
    name: str, title: str, message: str, expected: Any = None, actual: Any = None
) -> CheckResult:
    """One must-level failure of check ``name``, of the kind ``title``."""
    return CheckResult(name, False, Level.MUST, message, expected, actual, title=title)


@dataclass
class Exchanged:
    """What a check looks at: the case, the response and the headers we sent."""

    case: Case
    response: Response
    headers: dict[str, str]
    formatless_operation: APIOperation | None = None


CheckFunction = Callable[[Exchanged], list[CheckResult]]


def _run_builtin(name: str, builtin: Any, ex: Exchanged) -> list[CheckResult]:
    """Run one schemathesis check on the exchange and turn its failures into findings."""
    try:
        ex.case.validate_response(ex.response, checks=[builtin], headers=ex.headers)
    except FailureGroup as group:
        return [_finding(name, f) for f in group.exceptions]
    except Failure as failure:
        return [_finding(name, failure)]
    return []


def _finding(name: str, found: Failure) -> CheckResult:
    return failure(name, str(found.title), str(found.message))


def _failed(check: CheckResult) -> list[CheckResult]:
    return [] if check.passed else [check]


def not_a_server_error(ex: Exchanged) -> list[CheckResult]:
    """No 5xx, whatever was sent."""
    return _failed(scenario_checks.server_error(ex.response.status_code))


def status_code_conformance(ex: Exchanged) -> list[CheckResult]:
    """The status is one the operation documents."""
    return _run_builtin("status_code_conformance", st_status_code_conformance, ex)


def content_type_conformance(ex: Exchanged) -> list[CheckResult]:
    """The Content-Type is documented; JSON errors may be application/json or problem+json."""
    if ex.response.status_code >= 400:
        media = _media_type(ex.response)
        if media in ERROR_MEDIA_TYPES:
            return []
    return _run_builtin("content_type_conformance", st_content_type_conformance, ex)


def response_schema_conformance(ex: Exchanged) -> list[CheckResult]:
    """The body validates against the documented response schema.

    Two leniencies, both behaviour of the reference implementation that the standard's
    authors shipped: an optional string field with a ``format`` (email, uri) comes back as
    ``""`` when blank, and a body that is not JSON at all gets a Fout without
    ``invalidParams`` (``parse_error``). Everything else about the body is still checked.
    """
    findings = _schema_findings(ex, validate_formats=True)
    if findings and all(_is_blank_format(f) or _is_parse_error_fout(f, ex) for f in findings):
        findings = [
            f
            for f in _schema_findings(ex, validate_formats=False)
            if not _is_parse_error_fout(f, ex)
        ]
    return findings


def _schema_findings(ex: Exchanged, *, validate_formats: bool) -> list[CheckResult]:
    if validate_formats or ex.formatless_operation is None:
        return _run_builtin("response_schema_conformance", st_response_schema_conformance, ex)
    # schemathesis caches one validator per response definition, so the format-free
    # validation runs on a twin of the operation loaded with formats switched off.
    twin = ex.formatless_operation.Case(
        method=ex.case.method,
        path_parameters=ex.case.path_parameters,
        query=ex.case.query,
        headers=ex.case.headers,
        **({"body": ex.case.body} if not isinstance(ex.case.body, NotSet) else {}),
    )
    twin_ex = Exchanged(twin, ex.response, ex.headers)
    return _run_builtin("response_schema_conformance", st_response_schema_conformance, twin_ex)


_BLANK_FORMAT = re.compile(r'^"" is not a "[\w-]+"$', re.MULTILINE)


def _is_blank_format(finding: CheckResult) -> bool:
    return bool(_BLANK_FORMAT.search(finding.message))


def _is_parse_error_fout(finding: CheckResult, ex: Exchanged) -> bool:
    """A 400 to a body that is no JSON at all, lacking only ``invalidParams``."""
    if ex.response.status_code != 400:
        return False
    if '"invalidParams" is a required property' not in finding.message:
        return False
    body = ex.response.request.body
    if body is None:
        return True
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return True
    return False


def response_headers_conformance(ex: Exchanged) -> list[CheckResult]:
    """Documented response headers are present (when required) and match their schemas."""
    return _run_builtin("response_headers_conformance", st_response_headers_conformance, ex)


def api_version_header(ex: Exchanged) -> list[CheckResult]:
    """Every KIC response names the API version in the ``API-version`` header."""
    values = ex.response.headers.get(API_VERSION_HEADER.lower()) or []
    return _failed(scenario_checks.api_version(values[0] if values else None))


def negative_data_rejection(ex: Exchanged) -> list[CheckResult]:
    """Invalid data is refused: 400 for an invalid body, 400 or 404 for invalid parameters."""
    meta = ex.case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return []
    negated = {loc for loc, comp in meta.components.items() if comp.mode.is_negative}
    if _only_required_dropped_from_patch(ex.case, negated):
        return []
    expected = ["400"] if negated <= {ParameterLocation.BODY} else ["400", "404"]
    config = ex.case.operation.schema.config.checks.negative_data_rejection
    config.expected_statuses = expected
    findings = _run_builtin("negative_data_rejection", st_negative_data_rejection, ex)
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
