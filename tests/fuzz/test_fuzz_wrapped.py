"""Broken variants made by a middleware in front of the correct KIC, one defect each.

The header and content-type checks have no defect switch in the reference KIC; a WSGI
middleware that spoils the correct answers of one operation proves they find the problem on
that operation and nowhere else, and that the compatibility policy's framework-not-found point
(docs/compatibility.md) turns an HTML 404 for a path outside the API into a should only.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from fuzz_support import fuzz_target, wrapped_kic

from harness import compat
from harness.results import Level, Outcome


def _on_item_get(app, spoil):  # type: ignore[no-untyped-def]
    """Call ``spoil(status, headers) -> (status, headers, body|None)`` on GET /klanten/<x>."""

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "GET" or not path.startswith("/api/v1/klanten/"):
            return app(environ, start_response)
        environ["kic.segment"] = path.removeprefix("/api/v1/klanten/")
        captured = {}

        def capture(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(app(environ, capture))
        status, headers, new_body = spoil(
            captured["status"], list(captured["headers"]), environ["kic.segment"]
        )
        body = body if new_body is None else new_body
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


def drop_api_version(status, headers, segment):  # type: ignore[no-untyped-def]
    return status, [(k, v) for k, v in headers if k.lower() != "api-version"], None


def html_everywhere(status, headers, segment):  # type: ignore[no-untyped-def]
    kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
    return status, [*kept, ("Content-Type", "text/html")], b"<h1>Spoiled</h1>"


def _is_uuid(segment: str) -> bool:
    try:
        uuid.UUID(segment)
    except ValueError:
        return False
    return True


def django_not_found(status, headers, segment):  # type: ignore[no-untyped-def]
    """What the VNG reference's framework answers for a path segment that is no UUID."""
    if not status.startswith("404") or _is_uuid(segment):
        return status, headers, None
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-type", "api-version")]
    return status, [*kept, ("Content-Type", "text/html")], b"<h1>Not Found</h1>"


@pytest.mark.parametrize(
    ("spoil", "check"),
    [(drop_api_version, "api_version_header"), (html_everywhere, "content_type_conformance")],
    ids=["API-version missing", "HTML answers"],
)
def test_the_spoiled_operation_fails_the_right_check(tmp_path, spoil, check) -> None:
    with wrapped_kic(str(tmp_path / "kic.db"), lambda app: _on_item_get(app, spoil)) as target:
        result = fuzz_target(target, ["klant_read", "klant_list"], 4)
    cases = {c.operations[0]: c for c in result.cases}
    assert cases["klant_list"].outcome is Outcome.PASSED
    read = cases["klant_read"]
    assert read.outcome is Outcome.FAILED
    assert check in {c.name for c in read.failed_checks()}
    assert read.reproduce and "/api/v1/klanten/" in read.reproduce


def test_the_frameworks_404_outside_the_routes_is_a_should_only(tmp_path) -> None:
    with wrapped_kic(
        str(tmp_path / "kic.db"), lambda app: _on_item_get(app, django_not_found)
    ) as t:
        result = fuzz_target(t, ["klant_read"], 6)
    (read,) = result.cases
    assert read.outcome is Outcome.WARNING, [(c.name, c.message) for c in read.failed_checks()]
    found = {(c.name, c.level, c.title) for c in read.failed_checks()}
    title = compat.FRAMEWORK_NOT_FOUND.title
    assert ("content_type_conformance", Level.SHOULD, title) in found
    assert ("api_version_header", Level.SHOULD, title) in found
    assert ("response_schema_conformance", Level.SHOULD, title) in found


def _query_filtered(keep):  # type: ignore[no-untyped-def]
    """A KIC that only sees the query parameters ``keep(pair)`` accepts."""

    def wrap(app):  # type: ignore[no-untyped-def]
        def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
            pairs = [p for p in environ.get("QUERY_STRING", "").split("&") if p]
            environ["QUERY_STRING"] = "&".join(p for p in pairs if keep(p))
            return app(environ, start_response)

        return wrapped

    return wrap


def test_an_ignored_empty_filter_value_is_a_should_only(tmp_path) -> None:
    """What the VNG reference does with ?informatieobject= : the unfiltered list."""
    blank_ignored = _query_filtered(lambda pair: not pair.endswith("="))
    with wrapped_kic(str(tmp_path / "kic.db"), blank_ignored) as target:
        result = fuzz_target(target, ["verzoekinformatieobject_list"], 25)
    (listing,) = result.cases
    failed = [(c.name, c.level, c.title) for c in listing.failed_checks()]
    assert listing.outcome is Outcome.WARNING, failed
    point = compat.BLANK_QUERY_VALUE
    assert ("negative_data_rejection", Level.SHOULD, point.title) in failed


def test_an_ignored_invalid_filter_value_still_fails(tmp_path) -> None:
    """The exception is for empty values only: an invalid URL must still be refused."""
    everything_ignored = _query_filtered(lambda pair: False)
    with wrapped_kic(str(tmp_path / "kic.db"), everything_ignored) as target:
        result = fuzz_target(target, ["verzoekinformatieobject_list"], 25)
    (listing,) = result.cases
    failed = {(c.name, c.level) for c in listing.failed_checks()}
    assert listing.outcome is Outcome.FAILED
    assert ("negative_data_rejection", Level.MUST) in failed


def _blank_initiatiefnemer_twice(app):  # type: ignore[no-untyped-def]
    """The contactmomenten list answers every item twice, each with initiatiefnemer "": one
    response, two places of the same kind of finding."""

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["REQUEST_METHOD"] != "GET" or environ.get("PATH_INFO") != (
            "/api/v1/contactmomenten"
        ):
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(app(environ, capture))
        if captured["status"].startswith("200"):
            data = json.loads(body)
            items = data["results"] if isinstance(data, dict) else data
            doubled = [{**item, "initiatiefnemer": ""} for item in items[:1] * 2]
            if isinstance(data, dict):
                data["results"] = doubled
                data["count"] = len(doubled)
            else:
                data = doubled
            body = json.dumps(data).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


def test_a_finding_at_two_places_of_one_response_counts_one_request(tmp_path) -> None:
    """fuzz:contactmoment_list said "Blank initiatiefnemer (2 of 1 requests)": findings were
    counted, not the requests they were found in."""
    with wrapped_kic(str(tmp_path / "kic.db"), _blank_initiatiefnemer_twice) as target:
        result = fuzz_target(target, ["contactmoment_list"], 2)
    (case,) = result.cases
    [finding] = [c for c in case.failed_checks() if c.title == compat.BLANK_INITIATIEFNEMER.title]
    counted = re.search(r"\((\d+) of (\d+) requests\)", finding.message)
    assert counted, finding.message
    found, total = int(counted[1]), int(counted[2])
    assert 1 <= found <= total, finding.message
