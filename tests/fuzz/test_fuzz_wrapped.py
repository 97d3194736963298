"""Broken variants made by a middleware in front of the correct KIC, one defect each.

The header and content-type checks have no defect switch in the reference KIC; a WSGI
middleware that spoils the correct answers of one operation proves they find the problem on
that operation and nowhere else.
"""

from __future__ import annotations

import pytest
from fuzz_support import fuzz_target, wrapped_kic

from harness.results import Outcome


def _on_item_get(app, spoil):  # type: ignore[no-untyped-def]
    """Call ``spoil(status, headers) -> (status, headers, body|None)`` on GET /klanten/<x>."""

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "GET" or not path.startswith("/api/v1/klanten/"):
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(app(environ, capture))
        status, headers, new_body = spoil(captured["status"], list(captured["headers"]))
        body = body if new_body is None else new_body
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


def drop_api_version(status, headers):  # type: ignore[no-untyped-def]
    return status, [(k, v) for k, v in headers if k.lower() != "api-version"], None


def html_not_found(status, headers):  # type: ignore[no-untyped-def]
    if not status.startswith("404"):
        return status, headers, None
    kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
    return status, [*kept, ("Content-Type", "text/html")], b"<h1>Not Found</h1>"


@pytest.mark.parametrize(
    ("spoil", "check"),
    [(drop_api_version, "api_version_header"), (html_not_found, "content_type_conformance")],
    ids=["API-version missing", "HTML 404"],
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
