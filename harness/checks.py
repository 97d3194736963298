"""The checks: each a small named function that looks at one thing and returns a CheckResult.

Response checks take the :class:`~harness.transport.Response` of one step; DRC checks take
journal entries or mirrors of the mock DRC. None of them raise for anything the target does.
"""

from __future__ import annotations

from typing import Any

from harness import matchers
from harness.results import CheckResult, Level
from harness.spec import Spec
from harness.transport import Response

API_VERSION = "API-version"


def _result(
    name: str,
    problems: list[str],
    level: Level,
    expected: Any = None,
    actual: Any = None,
    index: int | None = None,
) -> CheckResult:
    return CheckResult(
        name=name,
        passed=not problems,
        level=level,
        message="; ".join(problems),
        expected=expected,
        actual=actual,
        exchange_index=index,
    )


def response_received(response: Response, index: int | None = None) -> CheckResult:
    """The target answered with a complete HTTP response (no refusal, timeout, huge body)."""
    problems = [response.error] if response.error and not _is_redirect(response) else []
    if response.status is None and not problems:
        problems = ["no response"]
    return _result(
        "response_received", problems, Level.MUST, "a complete HTTP response", response.error, index
    )


def _is_redirect(response: Response) -> bool:
    return response.status is not None and 300 <= response.status < 400 and not response.truncated


def status_code(
    expected: int | list[int], response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """The status is the expected one (or one of the expected list)."""
    wanted = expected if isinstance(expected, list) else [expected]
    problems = []
    if response.status not in wanted:
        shown = " or ".join(str(s) for s in wanted)
        problems.append(
            f"expected status {shown}, got {response.status}"
            + (f" ({response.error})" if response.error else "")
        )
    return _result("status_code", problems, level, expected, response.status, index)


def not_server_error(response: Response, index: int | None = None) -> CheckResult:
    """A KIC never answers a 5xx to a request a client can make."""
    problems = []
    if response.status is not None and response.status >= 500:
        problems.append(f"server error {response.status}")
    return _result("not_server_error", problems, Level.MUST, "< 500", response.status, index)


def api_version_header(response: Response, index: int | None = None) -> CheckResult:
    """Every KIC response carries an API-version header."""
    value = response.header(API_VERSION)
    problems = [] if value else ["the API-version header is missing"]
    return _result("api_version_header", problems, Level.MUST, "present", value, index)


def response_schema(
    spec: Spec, operation_id: str, response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """The response is one the operation documents: status, headers, body schema."""
    if response.truncated:
        problems = [response.error or "body cut off"]
    else:
        problems = spec.validate_response(
            operation_id, response.status or 0, response.headers, response.body
        )
    return _result(f"response_schema[{operation_id}]", problems, level, operation_id, None, index)


def body_matches(
    expected: Any, response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """The JSON body matches the expected tree (subset for objects)."""
    ok, body = response.json()
    if not ok:
        problems = [
            "the response body is not JSON" + (f" ({response.error})" if response.error else "")
        ]
        return _result("body", problems, level, matchers.to_json(expected), None, index)
    problems = matchers.match(expected, body)
    return _result("body", problems, level, matchers.to_json(expected), body, index)


def headers_match(
    expected: dict[str, Any], response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """Each listed header matches (``!absent``: must not be there; names case-insensitive)."""
    problems, seen = [], {}
    for name, wanted in expected.items():
        value = response.header(name)
        seen[name] = value
        if isinstance(wanted, matchers.Absent):
            if value is not None:
                problems.append(f"header {name}: expected to be absent, got {value!r}")
            continue
        if value is None:
            problems.append(f"header {name}: missing")
            continue
        problems.extend(matchers.match(wanted, value, f"header {name}"))
    return _result("headers", problems, level, matchers.to_json(expected), seen, index)


def invalid_params(
    expected: list[dict[str, str]], response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """Every expected ``{name, code}`` appears in the ValidatieFout's invalidParams."""
    ok, body = response.json()
    found = body.get("invalidParams") if ok and isinstance(body, dict) else None
    problems = []
    if not isinstance(found, list):
        problems.append("the response has no invalidParams list")
    else:
        for item in expected:
            if not any(
                isinstance(p, dict)
                and p.get("name") == item["name"]
                and ("code" not in item or p.get("code") == item["code"])
                for p in found
            ):
                wanted = f"{item['name']}/{item.get('code', '*')}"
                got = (
                    ", ".join(
                        f"{p.get('name')}/{p.get('code')}" for p in found if isinstance(p, dict)
                    )
                    or "none"
                )
                problems.append(f"invalidParams lacks {wanted} (got {got})")
    return _result("invalid_params", problems, level, expected, found, index)


def error_code(
    expected: str, response: Response, level: Level, index: int | None = None
) -> CheckResult:
    """The Fout's ``code`` is the expected one."""
    ok, body = response.json()
    actual = body.get("code") if ok and isinstance(body, dict) else None
    problems = [] if actual == expected else [f"expected error code {expected!r}, got {actual!r}"]
    return _result("error_code", problems, level, expected, actual, index)


def capture_ok(
    name: str, problem: str | None, level: Level, index: int | None = None
) -> CheckResult:
    """A ``save`` capture could be read from the response."""
    return _result(f"save[{name}]", [problem] if problem else [], level, None, None, index)


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


def drc_received(
    expectation: dict[str, Any],
    entries: list[dict[str, Any]],
    path: str | None,
    level: Level,
    negate: bool = False,
) -> CheckResult:
    """The DRC got (``negate``: did not get) a matching request during the scenario."""
    hits = [e for e in entries if _journal_matches(e, expectation, path)]
    described = {k: matchers.to_json(v) for k, v in expectation.items()}
    problems = []
    if negate:
        if hits:
            problems.append(f"the DRC received {len(hits)} request(s) it should not have")
        name = "drc_not_received"
    else:
        name = "drc_received"
        if "count" in expectation and len(hits) != expectation["count"]:
            problems.append(
                f"expected {expectation['count']} matching DRC request(s), got {len(hits)}"
            )
        elif "count" not in expectation and not hits:
            problems.append(
                f"the DRC received no {expectation.get('method', '')} request to "
                f"{expectation.get('path', 'any path')} matching the expectation "
                f"({len(entries)} request(s) in this scenario)"
            )
    actual = [_journal_view(e) for e in (hits if negate or hits else entries)][:20]
    return _result(name, problems, level, described, actual)


def drc_mirrors(
    expectation: dict[str, Any], mirrors: list[dict[str, Any]], level: Level
) -> CheckResult:
    """The DRC's objectinformatieobjecten contain / do not contain / count what is expected."""
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
    return _result("drc_mirrors", problems, level, matchers.to_json(expectation), relevant[:20])
