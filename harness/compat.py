"""The compatibility policy: what passes at must level where openapi.yaml and the VNG reference
KIC's documented normal behaviour disagree.

The standard asks for the contract *and* "the same result as the reference implementation". Where
the two disagree on a detail, a KIC doing either is conformant: both readings pass at must level,
and the stricter reading is checked at should level. Every such point is one :class:`Point` in
:data:`POINTS`, with its evidence in ``kic-reference-behaviour.md``; docs/compatibility.md is the
table of them. This module is the only place that decides a point: the scenario checks
(:mod:`harness.checks`) and the fuzz checks (:mod:`harness.fuzz.checks`) both call it, so the two
phases cannot disagree about a response.

The API, for any check that judges a response:

- :func:`judge_response`: a response against its operation's documented form, as a
  :class:`Judgement`: the problems that fail at must level and the :class:`Deviation` from the
  stricter reading that count at should level;
- :func:`judge_content_type`: the same for the response's Content-Type;
- :func:`allowed_blank`: whether ``""`` is accepted at a place of a body;
- :data:`ERROR_MEDIA_TYPES`: the Content-Types an error body may have at must level;
- :func:`outside_routes` / :func:`framework_not_found`: a 404 to a path the API has no route
  for (the web framework's own page is accepted);
- :func:`blank_query_only`: a query whose only invalid values are empty (``?informatieobject=``),
  which a KIC may take as "not given".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zgw.errors import JSON, PROBLEM_JSON

if TYPE_CHECKING:
    from harness.spec import ResponseProblem, Spec


@dataclass(frozen=True)
class Point:
    """One place where the contract and the reference's documented behaviour disagree.

    ``lenient`` is what passes at must level, ``strict`` what the should-level check asks
    (empty: nothing stricter is checked, and ``why`` says why), ``evidence`` the section of
    the facts file that documents the reference's behaviour.
    """

    id: str
    title: str
    evidence: str
    lenient: str
    strict: str
    why: str = ""


BLANK_ERROR_DETAIL = Point(
    "blank-error-detail",
    "Blank detail in a ValidatieFout",
    '§4.1 (detail: for ValidationError always ""), §6 test_400_error',
    'a 400 ValidatieFout with detail ""',
    "detail is not empty (Fout/ValidatieFout.detail has minLength 1)",
)
BLANK_INITIATIEFNEMER = Point(
    "blank-initiatiefnemer",
    "Blank initiatiefnemer",
    '§1.2 (initiatiefnemer: enum, blank allowed), §1.0 (blank text fields are "")',
    'initiatiefnemer "" on a contactmoment created without one',
    'initiatiefnemer is gemeente or klant, or left out (enum without "")',
)
BLANK_PRODUCT_CODE = Point(
    "blank-product-code",
    "Blank productIdentificatie.code",
    '§1.8 (responses always contain productIdentificatie: {"code": ""})',
    'productIdentificatie {"code": ""} on a verzoekproduct given by product URL',
    "productIdentificatie.code is not empty, or productIdentificatie is left out (minLength 1)",
)
PARSE_ERROR_FOUT = Point(
    "parse-error-fout",
    "Fout without invalidParams for a body that is not JSON",
    "§4.3 (malformed JSON: 400 parse_error, a Fout without invalidParams), §2 last row",
    "a 400 Fout without invalidParams when the request body is not a JSON document",
    "the documented 400 body, a ValidatieFout with invalidParams",
)
PLAIN_JSON_ERRORS = Point(
    "plain-json-errors",
    "Error bodies sent as application/json",
    "§4.1 (Content-Type on the wire is application/json), §8 (assert leniently)",
    "an error body (4xx/5xx) with Content-Type application/json or application/problem+json",
    "the documented Content-Type of the error response, application/problem+json",
)
FRAMEWORK_NOT_FOUND = Point(
    "framework-not-found",
    "The web framework's own 404 for a path outside the API",
    "§1.0 (unrouted path, trailing slash: Django's HTML 404), §4.1, §4.5 (no API-version)",
    "status 404 for a path whose parameter is no valid value (not a UUID), any body and headers",
    "the documented 404: a Fout, its Content-Type and the API-version header",
)
BLANK_QUERY_VALUE = Point(
    "blank-query-value",
    "An empty filter value taken as not given",
    "§3 (filters; the reference answers ?informatieobject= with 200 and the unfiltered list)",
    "200 (the empty filter ignored) or a 400, when the only invalid query values are empty",
    "a 400: an empty value is not a valid value of the parameter's schema",
)
BLANK_UNSET_TEXT = Point(
    "blank-unset-text",
    'Unset uri/email fields answered as ""',
    '§1.0 (blank text fields are returned as "", never omitted)',
    '"" for an unset field with format uri or email (emailadres, subject, medewerker)',
    "",
    'The schema gives these fields a format, which describes a value, and no minLength; "" '
    "is how the standard's own stack says unset, so there is no stricter reading to check.",
)
AUTH_403 = Point(
    "auth-403",
    "403 for every authentication failure",
    "§4.2 (there is never a 401), §8 (401 versus 403)",
    "401 or 403 for a missing, malformed or wrongly signed token",
    "",
    "openapi.yaml documents both, and describes its 403 as 'no valid token, or the client "
    "lacks the scope': the reference's reading is the contract's, so neither is stricter.",
)
NO_ETAG = Point(
    "no-etag",
    "No ETag, If-None-Match ignored",
    "§4.4 (documented, not implemented)",
    "a detail GET without ETag that answers 200 to If-None-Match",
    "ETag on every detail GET and 304 for a matching If-None-Match "
    "(the *-etag-not-modified scenarios, level should)",
)

#: Every point of the policy, in the order of docs/compatibility.md.
POINTS: tuple[Point, ...] = (
    BLANK_ERROR_DETAIL,
    BLANK_INITIATIEFNEMER,
    BLANK_PRODUCT_CODE,
    BLANK_UNSET_TEXT,
    PARSE_ERROR_FOUT,
    PLAIN_JSON_ERRORS,
    AUTH_403,
    NO_ETAG,
    FRAMEWORK_NOT_FOUND,
    BLANK_QUERY_VALUE,
)

#: Formats a blank ``""`` passes (at every level: see :data:`BLANK_UNSET_TEXT`).
BLANK_UNSET_FORMATS = frozenset({"email", "idn-email", "uri"})
#: The Content-Types an error body may have at must level (:data:`PLAIN_JSON_ERRORS`).
ERROR_MEDIA_TYPES: tuple[str, ...] = (PROBLEM_JSON, JSON)


@dataclass(frozen=True)
class _Blank:
    """A place where ``""`` is accepted at must level although the schema refuses it."""

    point: Point
    path: tuple[str, ...]  # property names from the body's top (list indices left out)
    keyword: str  # the schema keyword "" breaks there
    statuses: frozenset[int] | None = None  # only in answers with these statuses (None: any)


_BLANKS: tuple[_Blank, ...] = (
    _Blank(BLANK_ERROR_DETAIL, ("detail",), "minLength", frozenset({400})),
    _Blank(BLANK_INITIATIEFNEMER, ("initiatiefnemer",), "enum"),
    _Blank(BLANK_PRODUCT_CODE, ("productIdentificatie", "code"), "minLength"),
)


def allowed_blank(
    path: Sequence[str | int], status: int, keyword: str | None = None
) -> Point | None:
    """The point under which ``""`` at ``path`` of a body passes at must level, if any.

    ``path`` is the JSON path from the body's top (``("detail",)``, ``(0, "initiatiefnemer")``);
    list indices are ignored, so a list of contactmomenten is judged as one. ``keyword`` (the
    schema keyword the blank breaks) narrows the answer when given.
    """
    names = tuple(part for part in path if isinstance(part, str))
    for blank in _BLANKS:
        if blank.path != names or (keyword is not None and keyword != blank.keyword):
            continue
        if blank.statuses is not None and status not in blank.statuses:
            continue
        return blank.point
    return None


@dataclass(frozen=True)
class Deviation:
    """A problem the stricter reading finds that the policy accepts at must level."""

    point: Point
    problem: str
    aspect: str = "body"

    @property
    def text(self) -> str:
        return f"{self.problem} [{self.point.id}]"


@dataclass
class Judgement:
    """What a response comes to: problems that fail at must level, deviations at should level."""

    must: list[ResponseProblem | _Problem] = field(default_factory=list)
    should: list[Deviation] = field(default_factory=list)

    def must_texts(self, *aspects: str) -> list[str]:
        """The must-level problems as text, only those of ``aspects`` when given."""
        return [p.text for p in self.must if not aspects or p.aspect in aspects]

    def should_for(self, *aspects: str) -> list[Deviation]:
        """The deviations, only those of ``aspects`` when given."""
        return [d for d in self.should if not aspects or d.aspect in aspects]

    def extend(self, other: Judgement) -> None:
        self.must.extend(other.must)
        self.should.extend(other.should)


@dataclass(frozen=True)
class _Problem:
    """A must-level problem this module finds itself (same shape as ResponseProblem's)."""

    aspect: str
    text: str


def judge_response(
    spec: Spec,
    operation_id: str,
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    request_body: bytes | str | None = None,
    path_values: Mapping[str, Any] | None = None,
) -> Judgement:
    """``spec``'s problems with a response of ``operation_id``, judged by the policy.

    ``body`` as :meth:`harness.spec.Spec.response_problems` takes it; ``request_body`` is what
    was sent (to recognise a body that is no JSON document), ``path_values`` the path
    parameters of the request (to recognise a path outside the API's routes).
    The Content-Type is judged separately (:func:`judge_content_type`), by the check that
    owns it.
    """
    judgement = Judgement()
    unrouted = framework_not_found(spec, operation_id, status, path_values) is not None
    for problem in spec.response_problems(operation_id, status, dict(headers), body):
        point = _accepted_under(problem, status, request_body, unrouted)
        if point is None:
            judgement.must.append(problem)
        else:
            judgement.should.append(Deviation(point, problem.text, problem.aspect))
    return judgement


def _accepted_under(
    problem: ResponseProblem, status: int, request_body: bytes | str | None, unrouted: bool
) -> Point | None:
    if unrouted and problem.aspect in ("body", "header", "content-type"):
        return FRAMEWORK_NOT_FOUND
    if problem.aspect != "body":
        return None
    if problem.instance == "":
        return allowed_blank(problem.path, status, problem.keyword)
    if (
        status == 400
        and problem.keyword == "required"
        and problem.path == ()
        and isinstance(problem.instance, dict)
        and "invalidParams" not in problem.instance
        and not is_json_document(request_body)
    ):
        return PARSE_ERROR_FOUT
    return None


def is_json_document(body: bytes | str | None) -> bool:
    """Whether a request body is a JSON document (an absent or empty body is not)."""
    if body is None:
        return False
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def judge_content_type(
    status: int,
    media_type: str | None,
    documented: Sequence[str],
    *,
    has_body: bool = True,
    unrouted: bool = False,
) -> Judgement:
    """The Content-Type of a response against the media types documented for its status.

    ``media_type`` is the response's (without parameters; None when there is none),
    ``documented`` those of the documented response (empty: no body documented, nothing to
    judge), ``unrouted`` what :func:`framework_not_found` said about the request.
    """
    judgement = Judgement()
    if not documented or not has_body:
        return judgement
    wanted = [m.lower() for m in documented]
    media = media_type.lower() if media_type else None
    if media in wanted:
        return judgement
    shown = " or ".join(wanted)
    problem = (
        f"header Content-Type: {json.dumps(media)} is not documented for status {status} "
        f"(documented: {shown})"
        if media
        else f"header Content-Type: missing; {shown} is documented for status {status}"
    )
    if unrouted:
        judgement.should.append(Deviation(FRAMEWORK_NOT_FOUND, problem, "content-type"))
    elif status >= 400 and media in ERROR_MEDIA_TYPES:
        judgement.should.append(Deviation(PLAIN_JSON_ERRORS, problem, "content-type"))
    else:
        judgement.must.append(_Problem("content-type", problem))
    return judgement


def outside_routes(spec: Spec, operation_id: str, path_values: Mapping[str, Any]) -> bool:
    """Whether a path parameter's value is no valid value of its schema (not a UUID, say).

    Such a path names nothing in the API, so a web framework may answer it from its own router
    (the reference's Django answers its HTML 404 without an API-version header).
    """
    operation = spec.operation(operation_id)
    for parameter in operation.parameters:
        if parameter.location != "path" or parameter.name not in path_values:
            continue
        value = path_values[parameter.name]
        if spec.schema_errors(parameter.schema, value if isinstance(value, str) else str(value)):
            return True
    return False


def framework_not_found(
    spec: Spec, operation_id: str, status: int | None, path_values: Mapping[str, Any] | None
) -> Point | None:
    """:data:`FRAMEWORK_NOT_FOUND` when a 404 answered a path outside the API's routes."""
    if status != 404 or not path_values:
        return None
    return FRAMEWORK_NOT_FOUND if outside_routes(spec, operation_id, path_values) else None


def blank_query_only(spec: Spec, operation_id: str, query: Mapping[str, Any]) -> bool:
    """Whether the only invalid values of ``query`` are empty strings (and there is one).

    A KIC may take ``?informatieobject=`` as "not given" (:data:`BLANK_QUERY_VALUE`): then no
    rejection is demanded at must level.
    """
    parameters = {
        p.name: p for p in spec.operation(operation_id).parameters if p.location == "query"
    }
    blanks = [name for name, value in query.items() if value == ""]
    if not blanks:
        return False
    for name, value in query.items():
        if value == "":
            continue
        if name not in parameters or spec.schema_errors(parameters[name].schema, value):
            return False
    return True
