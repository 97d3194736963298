"""Plain-text renderings shared by reporters: one failed case with its checks and exchanges."""

from __future__ import annotations

import json

from harness.report import redact
from harness.results import CaseResult, Exchange


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


def case_text(case: CaseResult) -> str:
    """A failed (or warned) case: what failed, then the exchanges the failures point at."""
    lines = [
        f"{case.outcome.value.upper()} {case.id} [{case.rule}, {case.level.value}]  {case.title}"
    ]
    if case.source:
        lines.append(f"  scenario: {case.source}")
    if case.skip_reason:
        lines.append(f"  skipped: {case.skip_reason}")
    if case.error:
        lines.append(f"  error: {case.error}")
    wanted: list[int] = []
    for check in case.failed_checks():
        lines.append(f"  - [{check.level.value}] {check.name}: {check.message}")
        if check.exchange_index is None and (check.expected is not None or check.actual):
            lines.append(f"      expected: {_compact(check.expected)}")
            lines.append(f"      actual:   {_compact(check.actual)}")
        if check.exchange_index is not None and check.exchange_index not in wanted:
            wanted.append(check.exchange_index)
    if case.error and case.exchanges and not wanted:
        wanted.append(len(case.exchanges) - 1)
    for index in wanted:
        if 0 <= index < len(case.exchanges):
            lines.append(f"  exchange {index + 1}:")
            lines += [f"    {line}" for line in exchange_text(case.exchanges[index]).splitlines()]
    if case.reproduce:
        lines.append(f"  reproduce: {case.reproduce}")
    return redact("\n".join(lines))
