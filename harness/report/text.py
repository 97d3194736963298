"""Plain-text renderings shared by reporters: the failure causes of a run, one case with its
failed checks, exchanges and the mock DRC's side of it, and the cleanup problems of a case
(failed ``finally:`` checks, outside the verdict)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from harness.report import redact
from harness.results import CaseResult, Cause, CheckResult, Exchange, Outcome, causes_title

#: Said wherever cleanup problems are listed, so nobody reads them as non-conformances.
CLEANUP_NOTE = "not counted in the verdict; the KIC may have kept test data"
#: Said where a case is precondition failed, so nobody reads it as a pass of what it tests.
PRECONDITION_NOTE = (
    "a set-up step failed at must level: counted against the operation that failed, and "
    "against conformance; the behaviour under test was not judged"
)
#: How many affected cases a cause names before "and N more".
CASES_NAMED = 5
#: How much of a KIC's answer to a DRC call-back a report quotes.
ANSWER_QUOTED = 300


def label(outcome: Outcome) -> str:
    """How reports write an outcome as a heading: FAILED, PRECONDITION FAILED."""
    return outcome.value.upper()


def exchange_text(exchange: Exchange) -> str:
    """The exact request and response (Authorization masked)."""
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {k}: {v}" for k, v in exchange.request_headers.items()]
    if exchange.request_body:
        lines += [">", *(f"> {line}" for line in exchange.request_body.splitlines())]
    if exchange.status is not None:
        lines.append(f"< {exchange.status}{elapsed(exchange)}")
        lines += [f"< {k}: {v}" for k, v in exchange.response_headers.items()]
        if exchange.response_body:
            lines += ["<", *(f"< {line}" for line in exchange.response_body.splitlines())]
    if exchange.error:
        lines.append(f"! {exchange.error}")
    return redact("\n".join(lines))


def elapsed(exchange: Exchange) -> str:
    """``  (12.3 ms)`` after a status line; nothing when the time is not known."""
    return f"  ({exchange.elapsed_ms} ms)" if exchange.elapsed_ms is not None else ""


def as_json(value: object, *, indent: int | None = None) -> str:
    """``value`` written as JSON (never a Python repr: ``null``, double quotes)."""
    return json.dumps(value, default=str, ensure_ascii=False, indent=indent)


def _compact(value: object, limit: int = 1500) -> str:
    text = as_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = 240) -> str:
    """The first line of ``text``, at most ``limit`` characters (marked when cut)."""
    lines = text.strip().splitlines() or [""]
    first = lines[0]
    if len(first) > limit:
        return first[: limit - 1] + "…"
    return first + (" …" if len(lines) > 1 else "")


# --------------------------------------------------------------------------- causes


def cause_heading(cause: Cause) -> str:
    """``FAILED  status_code: expected status 204, got 400`` (one line), labelled by the
    outcome of its cases (:attr:`Cause.label`)."""
    return f"{cause.label}  {cause.check}: {one_line(redact(cause.message))}"


def causes_heading(causes: list[Cause]) -> str:
    """``Causes of warnings (26), worst first:``: named by what the causes are."""
    return f"{causes_title(causes)} ({len(causes)}), worst first:"


def cause_scope(cause: Cause, named: int = CASES_NAMED) -> str:
    """How far a cause reaches: ``2 cases: a, b; operations: x`` (plus the checks' count when
    a case has it more than once)."""
    count = len(cause.cases)
    names = ", ".join(cause.cases[:named])
    if count > named:
        names += f" and {count - named} more"
    text = f"{count} case{'' if count == 1 else 's'}"
    if len(cause.case_outcomes) > 1:
        text += " (" + ", ".join(f"{n} {o}" for o, n in cause.case_outcomes.items()) + ")"
    text += f": {names}"
    if cause.occurrences > count:
        text += f" ({cause.occurrences} times)"
    if cause.operations:
        text += f"; operation{'s' if len(cause.operations) > 1 else ''}: "
        text += ", ".join(cause.operations[:named])
        if len(cause.operations) > named:
            text += f" and {len(cause.operations) - named} more"
    return text


def _about(names: list[str] | None) -> str:
    return ", ".join(f"{{{n}}}" for n in names or [])


def cause_evidence(cause: Cause) -> str | None:
    """The DRC's side of a cause in one line: which request it refused (or lost), and what
    its call-back to the KIC found. None when the journal shows no such request."""
    entry = cause.drc_evidence
    if not entry:
        return None
    status = entry.get("status")
    answered = f"refused it with {status}" if status is not None else "lost the connection"
    about = _about(entry.get("about"))
    text = f"mock DRC: {entry.get('method')} {entry.get('path')}"
    text += f" (about {about})" if about else ""
    text += f": the DRC {answered}"
    for callback in entry.get("callbacks") or []:
        asked = _about(callback.get("about"))
        answer = callback.get("status")
        text += f"; its call-back{' about ' + asked if asked else ''}: "
        text += f"the KIC answered {answer}" if answer is not None else "no answer from the KIC"
        text += f", {callback.get('outcome')}"
        if callback.get("detail"):
            text += f" ({callback['detail']})"
    return text


def cause_evidences(causes: list[Cause]) -> list[str | None]:
    """:func:`cause_evidence` of each cause; one the DRC already showed for an earlier cause
    (two checks failing on the same refused request) refers back to it."""
    first: dict[str, int] = {}
    lines: list[str | None] = []
    for number, cause in enumerate(causes, 1):
        evidence = cause_evidence(cause)
        if evidence is not None and evidence in first:
            evidence = f"mock DRC: the same request as cause {first[evidence]}"
        elif evidence is not None:
            first[evidence] = number
        lines.append(evidence)
    return lines


def causes_text(causes: list[Cause], shown: int | None = None) -> str:
    """The numbered causes, worst first, each with its reach (``shown``: at most that many)."""
    if not causes:
        return "No failures."
    listed = causes if shown is None else causes[:shown]
    lines = [causes_heading(causes)]
    for number, (cause, evidence) in enumerate(
        zip(listed, cause_evidences(listed), strict=True), 1
    ):
        lines.append(f"{number:>3}. {cause_heading(cause)}")
        lines.append(f"     {cause_scope(cause)}")
        if evidence:
            lines.append(f"     {evidence}")
    if len(listed) < len(causes):
        lines.append(f"     ... and {len(causes) - len(listed)} more causes (in the details)")
    return redact("\n".join(lines))


# --------------------------------------------------------------------------- the DRC's side


def journal_lines(entries: list[dict[str, Any]], indent: str = "  ") -> list[str]:
    """The mock DRC's journal entries of one scenario: each request the DRC got, its answer,
    and each call-back it made with what the KIC answered."""
    if not entries:
        return []
    lines = [f"{indent}mock DRC journal of this scenario ({len(entries)} requests):"]
    for entry in entries:
        if "error" in entry and "method" not in entry:
            lines.append(f"{indent}  {entry['error']}")
            continue
        query = entry.get("query") or {}
        path = str(entry.get("path", "?")) + (f"?{urlencode(query, doseq=True)}" if query else "")
        status = entry.get("status")
        answer = "no answer (connection dropped)" if status is None else str(status)
        line = f"{indent}  #{entry.get('id', '?')} {entry.get('method', '?')} {path} -> {answer}"
        if entry.get("drc") == "second":
            line = line.replace("#", "second DRC #", 1)
        if entry.get("about"):
            line += f"  (about {_about(entry['about'])})"
        if entry.get("fault"):
            line += f"  (fault rule: {as_json(entry['fault'])})"
        lines.append(line)
        body = entry.get("body")
        if body not in (None, "", {}):
            lines.append(f"{indent}      body: {_compact(body, 400)}")
        elif entry.get("method") == "DELETE" and entry.get("resource"):
            lines.append(f"{indent}      deleting: {_compact(entry['resource'], 400)}")
        for callback in entry.get("callbacks") or []:
            lines += _callback_lines(callback, indent + "      ")
    return lines


def _callback_lines(callback: dict[str, Any], indent: str) -> list[str]:
    status = callback.get("status")
    answered = f"the KIC answered {status}" if status is not None else "no answer from the KIC"
    outcome = callback.get("outcome") or "?"
    about = f" (about {_about(callback['about'])})" if callback.get("about") else ""
    line = f"{indent}call-back GET {callback.get('url', '?')}{about}: {answered}, {outcome}"
    if callback.get("elapsed_ms") is not None:
        line += f" ({callback['elapsed_ms']} ms)"
    lines = [line]
    if callback.get("detail"):
        lines.append(f"{indent}  {callback['detail']}")
    if callback.get("error"):
        lines.append(f"{indent}  error: {callback['error']}")
    answer = callback.get("answer")
    if answer:
        quoted = answer if len(answer) <= ANSWER_QUOTED else answer[:ANSWER_QUOTED] + "..."
        lines.append(f"{indent}  answer: {quoted}")
    return lines


# --------------------------------------------------------------------------- cases


def _check_lines(checks: list[CheckResult], wanted: list[int], indent: str = "  ") -> list[str]:
    """One line per check (plus expected/actual when no exchange shows them); collects the
    exchanges the checks point at into ``wanted``."""
    lines = []
    for check in checks:
        where = "" if check.under_test or check.cleanup else ", set-up"
        lines.append(f"{indent}- [{check.level.value}{where}] {check.name}: {check.message}")
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


def _header(case: CaseResult, heading: str) -> list[str]:
    lines = [f"{heading} {case.id} [{case.rule}, {case.level.value}]  {case.title}"]
    if case.source:
        lines.append(f"  scenario: {case.source}")
    return lines


def case_text(case: CaseResult, *, cleanup: bool = True) -> str:
    """A failed (or warned) case: what failed, the exchanges the failures point at, the mock
    DRC's side (its journal entries of this scenario, call-backs included), how to repeat it.

    With ``cleanup`` (the default) its cleanup problems follow, marked as such; reporters
    that list cleanup problems in a section of their own pass ``cleanup=False``.
    """
    lines = _header(case, label(case.outcome))
    if case.outcome is Outcome.PRECONDITION_FAILED:
        lines.append(f"  precondition failed: {PRECONDITION_NOTE}")
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
    lines += journal_lines(case.drc_journal)
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
