"""Plain-text renderings shared by reporters: one case with its failed checks and exchanges,
and the cleanup problems of a case (failed ``finally:`` checks, outside the verdict)."""

from __future__ import annotations

import json

from harness.report import redact
from harness.results import CaseResult, CheckResult, Exchange

#: Said wherever cleanup problems are listed, so nobody reads them as non-conformances.
CLEANUP_NOTE = "not counted in the verdict; the KIC may have kept test data"


def exchange_text(exchange: Exchange) -> str:
    """The exact request and response (Authorization masked)."""
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {k}: {v}" for k, v in exchange.request_headers.items()]
    if exchange.request_body:
        lines += [">", *(f"> {line}" for line in exchange.request_body.splitlines())]
    if exchange.status is not None:
        lines.append(f"< {exchange.status}  ({exchange.elapsed_ms} ms)")
        lines += [f"< {k}: {v}" for k, v in exchange.response_headers.items()]
        if exchange.response_body:
            lines += ["<", *(f"< {line}" for line in exchange.response_body.splitlines())]
    if exchange.error:
        lines.append(f"! {exchange.error}")
    return redact("\n".join(lines))


def _compact(value: object, limit: int = 1500) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_lines(checks: list[CheckResult], wanted: list[int], indent: str = "  ") -> list[str]:
    """One line per check (plus expected/actual when no exchange shows them); collects the
    exchanges the checks point at into ``wanted``."""
    lines = []
    for check in checks:
        lines.append(f"{indent}- [{check.level.value}] {check.name}: {check.message}")
        if check.exchange_index is None and (check.expected is not None or check.actual):
            lines.append(f"{indent}    expected: {_compact(check.expected)}")
            lines.append(f"{indent}    actual:   {_compact(check.actual)}")
        if check.exchange_index is not None and check.exchange_index not in wanted:
            wanted.append(check.exchange_index)
    return lines


def _exchange_lines(case: CaseResult, wanted: list[int]) -> list[str]:
    lines = []
    for index in wanted:
        if 0 <= index < len(case.exchanges):
            lines.append(f"  exchange {index + 1}:")
            lines += [f"    {line}" for line in exchange_text(case.exchanges[index]).splitlines()]
    return lines


def _header(case: CaseResult, label: str) -> list[str]:
    lines = [f"{label} {case.id} [{case.rule}, {case.level.value}]  {case.title}"]
    if case.source:
        lines.append(f"  scenario: {case.source}")
    return lines


def case_text(case: CaseResult, *, cleanup: bool = True) -> str:
    """A failed (or warned) case: what failed, then the exchanges the failures point at.

    With ``cleanup`` (the default) its cleanup problems follow, marked as such; reporters
    that list cleanup problems in a section of their own pass ``cleanup=False``.
    """
    lines = _header(case, case.outcome.value.upper())
    if case.skip_reason:
        lines.append(f"  skipped: {case.skip_reason}")
    if case.error:
        lines.append(f"  error: {case.error}")
    wanted: list[int] = []
    lines += _check_lines(case.failed_checks(), wanted)
    if case.error and case.exchanges and not wanted:
        wanted.append(len(case.exchanges) - 1)
    problems = case.cleanup_problems() if cleanup else []
    if problems:
        lines.append(f"  cleanup problems ({CLEANUP_NOTE}):")
        lines += _check_lines(problems, wanted, indent="    ")
    lines += _exchange_lines(case, wanted)
    if case.reproduce:
        lines.append(f"  reproduce: {case.reproduce}")
    return redact("\n".join(lines))


def cleanup_text(case: CaseResult) -> str:
    """Only the cleanup problems of a case, with the requests and responses behind them."""
    lines = _header(case, f"CLEANUP ({case.outcome.value})")
    wanted: list[int] = []
    lines += _check_lines(case.cleanup_problems(), wanted)
    lines += _exchange_lines(case, wanted)
    if case.reproduce:
        lines.append(f"  reproduce: {case.reproduce}")
    return redact("\n".join(lines))
