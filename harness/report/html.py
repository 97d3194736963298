"""HTML report: one self-contained page (inline CSS, no scripts, no external assets).

It opens with the verdict banner, the run mode and what makes the run incomplete, then the
failure causes (worst first, each linking to the cases it hit), the operation x outcome and
rule x outcome matrices (their rows and counts link to the cases), the coverage of documented
status codes (red only for a code a scenario step of the run asked for and never got:
:func:`owed_statuses`), every non-passed case with its checks (expected and actual as JSON), its
requests and responses (bodies as JSON where they are JSON) and the mock DRC's side, the
cleanup problems (failed ``finally:`` checks, outside the verdict), the passed cases, and an
index of the cases per operation and per rule.

Long texts are folded, not cut: the first part shows, the rest sits in a closed
``<details>`` whose summary says how much more there is. The text is split before it is
escaped, so a fold never falls inside an HTML entity.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path

from harness.report import incomplete_reasons, interrupted, redact, run_mode
from harness.report.text import (
    CLEANUP_NOTE,
    PRECONDITION_NOTE,
    as_json,
    cause_evidences,
    cause_scope,
    elapsed,
    journal_lines,
    label,
    one_line,
)
from harness.results import (
    OUTCOME_ORDER,
    CaseResult,
    CheckResult,
    Exchange,
    Outcome,
    RunResult,
    causes_title,
)

#: Texts longer than this many characters are folded after it.
FOLD_AT = 2000

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:110em}
.banner{font-size:1.6em;font-weight:bold;color:#fff;padding:.4em .8em;border-radius:6px;
 display:inline-block}
.v-conformant{background:#2a7d2a}.v-not{background:#b22}.v-could{background:#848}
.v-incomplete{background:#a60;border:3px dashed #fff;outline:3px solid #a60}
.v-interrupted{background:#666;border:3px dashed #fff;outline:3px solid #666}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;
 vertical-align:top;text-align:left}
td.n{text-align:right}.passed{color:#2a7d2a}.failed,.precondition-failed{color:#b22}
.error{color:#848}.warning{color:#a60}.differs{color:#07a}.skipped{color:#888}
.cleanup{color:#a60}
td.seen{background:#dfd}td.missing{background:#fdd}td.optional{color:#999}
td.extra{background:#ffd}td.server{background:#fcc}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap;margin:.2em 0}
details{margin:.3em 0 .6em 0}summary{cursor:pointer}
details.more>summary{color:#a60;font-style:italic}
ol.causes li{margin:.4em 0}.outcome{font-weight:bold}.drc{color:#555}
.case{border-left:4px solid #ccc;padding-left:1em;margin:1.5em 0}
.case.failed,.case.precondition-failed{border-color:#b22}.case.error{border-color:#848}
.case.warning{border-color:#a60}.case.differs{border-color:#07a}
h4{margin:.6em 0 .2em 0}
"""

#: The banner's class per verdict state (:data:`harness.results.VERDICT_EXIT_CODES`): green
#: CONFORMANT, red NOT CONFORMANT, purple COULD NOT RUN; the two states that are neither a pass
#: nor a failure, amber NO FAILURES (incomplete) and grey INTERRUPTED, also wear a dashed
#: frame, so they never read as a green or red verdict at a glance (or without colour).
VERDICT_CLASSES = {
    "CONFORMANT": "v-conformant",
    "NOT CONFORMANT": "v-not",
    "COULD NOT RUN": "v-could",
    "NO FAILURES": "v-incomplete",
    "INTERRUPTED": "v-interrupted",
}


def _e(text: object) -> str:
    return html.escape(redact(str(text)))


def _css(outcome: Outcome) -> str:
    return outcome.value.replace(" ", "-")


def case_anchor(case_id: str) -> str:
    """The id of a case's element (every case has one, passed cases too)."""
    return f"case-{case_id}"


def _link(case_id: str) -> str:
    return f"<a href='#{_e(case_anchor(case_id))}'>{_e(case_id)}</a>"


def folded(text: str, css: str = "") -> str:
    """``text`` in a ``<pre>``; past :data:`FOLD_AT` characters the rest is folded away
    behind a visible marker. Split before escaping, so never inside an entity."""
    text = redact(text)
    attribute = f" class='{css}'" if css else ""
    if len(text) <= FOLD_AT:
        return f"<pre{attribute}>{html.escape(text)}</pre>"
    head, rest = text[:FOLD_AT], text[FOLD_AT:]
    return (
        f"<pre{attribute}>{html.escape(head)}</pre><details class='more'><summary>"
        f"&hellip; folded: {len(rest):,} more characters (click to show)</summary>"
        f"<pre{attribute}>{html.escape(rest)}</pre></details>"
    )


def _body(text: str | None) -> str:
    """A request or response body: pretty JSON when it is JSON, else the text as it came."""
    if not text:
        return "<p class='skipped'>(no body)</p>"
    try:
        value = json.loads(text)
    except ValueError:
        return folded(text, "text")
    return folded(as_json(value, indent=2), "json")


# --------------------------------------------------------------------------- the top


def _summary(run: RunResult) -> str:
    parts = [
        f"<div class='banner {VERDICT_CLASSES[run.verdict_state]}' id='verdict'>"
        f"{_e(run.verdict)}</div>",
        f"<p>Target <code>{_e(run.target)}</code>, KIC {_e(run.spec_version or '?')}, "
        f"{_e(run.started_at)} to {_e(run.finished_at)}</p>",
    ]
    if interrupted(run):
        parts.append(
            "<p class='warning'><b>Interrupted:</b> this report covers the cases that "
            "finished before the run was stopped.</p>"
        )
    reasons = incomplete_reasons(run)
    if reasons:
        items = "".join(f"<li>{_e(r)}</li>" for r in reasons)
        parts.append(
            f"<p class='warning'><b>Incomplete</b>: not a full certification run, because</p>"
            f"<ul id='incomplete'>{items}</ul>"
        )
    if run.aborted:
        parts.append(f"<pre class='error'>{_e(run.aborted)}</pre>")
    mode = run_mode(run)
    if mode:
        items = " &middot; ".join(f"{_e(k)}: <b>{_e(v)}</b>" for k, v in mode.items())
        parts.append(f"<p id='mode'>Run mode: {items}</p>")
    counts = run.counts()
    items = " &middot; ".join(
        f"<span class='{_css(o)}'>{o.value}: {counts.get(o, 0)}</span>"
        for o in OUTCOME_ORDER
        if counts.get(o)
    )
    parts.append(
        f"<p id='counts'>{len(run.cases)} cases: {items or 'none'} &middot; <span "
        f"class='cleanup'>cleanup problems: {run.cleanup_problem_count()}</span></p>"
    )
    return "".join(parts)


def _causes(run: RunResult) -> str:
    causes = run.causes()
    if not causes:
        return "<h2 id='causes'>Causes</h2><p class='passed'>No failures.</p>"
    items = []
    for cause, evidence in zip(causes, cause_evidences(causes), strict=True):
        cases = ", ".join(_link(i) for i in cause.cases)
        ops = ", ".join(_e(op) for op in cause.operations)
        reach = _e(cause_scope(cause).split(":", 1)[0])  # "3 cases"
        items.append(
            f"<li class='{_css(cause.worst_case_outcome)}'><span class='outcome'>"
            f"{_e(cause.label)}</span> <b>{_e(cause.check)}</b>: "
            f"{_e(one_line(cause.message, 400))}<br><span class='reach'>{reach}: {cases}"
            + (f"; operation{'s' if len(cause.operations) > 1 else ''}: {ops}" if ops else "")
            + (f" ({cause.occurrences} times)" if cause.occurrences > len(cause.cases) else "")
            + "</span>"
            + (f"<br><span class='drc'>{_e(evidence)}</span>" if evidence else "")
            + "</li>"
        )
    return (
        f"<h2 id='causes'>{_e(causes_title(causes))} ({len(causes)}), worst first</h2>"
        f"<ol class='causes'>{''.join(items)}</ol>"
    )


def _matrix(title: str, label_: str, prefix: str, rows: dict) -> str:
    head = "".join(f"<th class='{_css(o)}'>{o.value}</th>" for o in OUTCOME_ORDER)
    body = []
    for key in sorted(rows):
        anchor = f"#{prefix}-{_e(key)}"
        cells = "".join(
            f"<td class='n {_css(o)}'>"
            + (f"<a href='{anchor}'>{rows[key][o]}</a>" if rows[key].get(o) else "")
            + "</td>"
            for o in OUTCOME_ORDER
        )
        body.append(f"<tr><td><a href='{anchor}'>{_e(key)}</a></td>{cells}</tr>")
    return (
        f"<h2>{title}</h2><table class='matrix'><tr><th>{label_}</th>{head}</tr>"
        f"{''.join(body)}</table>"
    )


def owed_statuses(run: RunResult) -> dict[str, list[frozenset[int]]]:
    """operationId -> the status codes a scenario step of ``run`` asked of it, each as the set
    its ``status_code`` check accepted (``{406}``; ``{401, 403}`` where either will do).

    This is what a correct KIC owes the run: a code nothing in the run provoked (406 on an
    operation no content-negotiation scenario calls, 409, 410, 429, 500) is not. Cleanup steps
    are left out: they accept what a KIC may answer (``[204, 404]``), they ask for nothing.
    """
    owed: dict[str, list[frozenset[int]]] = defaultdict(list)
    for case in run.cases:
        for check in case.checks:
            if check.cleanup or check.kind != "status_code":
                continue
            op = case.operation_of(check)
            wanted = check.expected if isinstance(check.expected, list) else [check.expected]
            codes = frozenset(s for s in wanted if isinstance(s, int))
            if op and codes and codes not in owed[op]:
                owed[op].append(codes)
    return dict(owed)


def _coverage(run: RunResult) -> str:
    documented = run.documented_statuses
    owed = owed_statuses(run)
    ops = sorted(set(documented) | set(run.observed_statuses))
    statuses = sorted(
        {s for v in documented.values() for s in v}
        | {s for c in run.observed_statuses.values() for s in c}
    )
    head = "".join(f"<th>{s}</th>" for s in statuses)
    rows = []
    for op in ops:
        seen = run.observed_statuses.get(op, {})
        cells = []
        for status in statuses:
            count = seen.get(status, 0)
            if status not in documented.get(op, []):
                cells.append(
                    f"<td class='n extra' title='not documented'>{count}</td>"
                    if count
                    else "<td></td>"
                )
            elif count:
                css = "server" if status >= 500 else "seen"
                cells.append(f"<td class='n {css}'>{count}</td>")
            elif any(status in codes and not codes & set(seen) for codes in owed.get(op, [])):
                cells.append(
                    "<td class='n missing' title='documented, asked for by a scenario of this "
                    "run, never observed'></td>"
                )
            else:
                cells.append(
                    "<td class='n optional' title='documented; nothing in this run provokes "
                    "it'>-</td>"
                )
        rows.append(f"<tr><td>{_e(op)}</td>{''.join(cells)}</tr>")
    return (
        "<h2>Coverage: documented status codes observed</h2>"
        "<p id='coverage-legend'>Green: documented and observed. Red: documented, a scenario "
        "step of this run asked for it on this operation (alone, or as one of several codes "
        "none of which came), never observed. Dash (neutral): documented, but nothing in "
        "this run provokes it, so a correct KIC need not produce it here (406 or 415 on an "
        "operation no content-negotiation scenario calls, 409, 410, 429, 500; the fuzzer "
        "asks for no particular code). Yellow: observed but not documented. Pink: a server "
        "error observed.</p>"
        f"<table id='coverage'><tr><th>operation</th>{head}</tr>{''.join(rows)}</table>"
    )


# --------------------------------------------------------------------------- cases


def _checks_table(checks: list[CheckResult]) -> str:
    if not checks:
        return ""
    rows = []
    for check in checks:
        where = "" if check.under_test or check.cleanup else " (set-up)"
        rows.append(
            f"<tr><td class='{check.level.value}'>{check.level.value}{where}</td>"
            f"<td>{_e(check.name)}</td><td>{_e(check.message)}</td>"
            f"<td>{folded(as_json(check.expected, indent=2), 'json')}</td>"
            f"<td>{folded(as_json(check.actual, indent=2), 'json')}</td></tr>"
        )
    return (
        "<table class='checks'><tr><th>level</th><th>check</th><th>problem</th>"
        f"<th>expected</th><th>actual</th></tr>{''.join(rows)}</table>"
    )


def _headers(lines: list[str]) -> str:
    return folded("\n".join(lines), "http")


def _exchange(exchange: Exchange) -> str:
    request = [f"{exchange.method} {exchange.url}"]
    request += [f"{k}: {v}" for k, v in exchange.request_headers.items()]
    parts = [
        "<h4>Request</h4>",
        _headers(request),
        _body(exchange.request_body) if exchange.request_body else "",
    ]
    if exchange.status is not None:
        response = [f"{exchange.status}{elapsed(exchange)}"]
        response += [f"{k}: {v}" for k, v in exchange.response_headers.items()]
        parts += ["<h4>Response</h4>", _headers(response), _body(exchange.response_body)]
    if exchange.error:
        parts.append(f"<h4>Transport error</h4><pre class='error'>{_e(exchange.error)}</pre>")
    return f"<div class='exchange'>{''.join(parts)}</div>"


def _exchanges(case: CaseResult, checks: list[CheckResult], only_pointed_at: bool) -> str:
    """The case's exchanges; those ``checks`` point at are unfolded (with ``only_pointed_at``,
    the others are left out)."""
    pointed = {c.exchange_index for c in checks}
    if case.error and case.exchanges and not pointed - {None}:
        pointed.add(len(case.exchanges) - 1)  # where the case stopped
    parts = []
    for index, exchange in enumerate(case.exchanges):
        if only_pointed_at and index not in pointed:
            continue
        open_ = " open" if index in pointed else ""
        parts.append(
            f"<details{open_}><summary>exchange {index + 1}: {_e(exchange.method)} "
            f"{_e(exchange.url)} &rarr; {_e(exchange.status or exchange.error)}</summary>"
            f"{_exchange(exchange)}</details>"
        )
    return "".join(parts)


def _heading(case: CaseResult, heading: str) -> str:
    return (
        f"<h3>{heading} {_e(case.id)}</h3><p>{_e(case.title)}<br>"
        f"rule <b>{_e(case.rule)}</b>, level <b>{case.level.value}</b>"
        f"{', scenario ' + _e(case.source) if case.source else ''}</p>"
    )


def _case(case: CaseResult) -> str:
    outcome = case.outcome
    parts = [
        f"<section class='case {_css(outcome)}' id='{_e(case_anchor(case.id))}'>",
        _heading(case, label(outcome)),
    ]
    if outcome is Outcome.PRECONDITION_FAILED:
        parts.append(
            f"<p class='precondition-failed'>Precondition failed: {_e(PRECONDITION_NOTE)}.</p>"
        )
    if case.skip_reason:
        parts.append(f"<p>Skipped: {_e(case.skip_reason)}</p>")
    if case.error:
        parts.append(folded(case.error, "error"))
    failed = case.failed_checks()
    parts.append(_checks_table(failed))
    if case.cleanup_problems():
        parts.append(
            f"<p class='cleanup'>Also has <a href='#cleanup-{_e(case.id)}'>cleanup "
            "problems</a>.</p>"
        )
    parts.append(_exchanges(case, failed, only_pointed_at=False))
    if case.drc_journal:
        parts.append("<h4>The mock DRC's side</h4>")
        parts.append(folded("\n".join(journal_lines(case.drc_journal, indent="")), "drc"))
    if case.reproduce:
        parts.append(f"<p>Reproduce:</p>{folded(case.reproduce, 'reproduce')}")
    parts.append("</section>")
    return "".join(parts)


def _cleanup(case: CaseResult) -> str:
    problems = case.cleanup_problems()
    return (
        f"<section class='case cleanup' id='cleanup-{_e(case.id)}'>"
        + _heading(case, f"CLEANUP ({case.outcome.value})")
        + _checks_table(problems)
        + _exchanges(case, problems, only_pointed_at=True)
        + "</section>"
    )


def _passed(cases: list[CaseResult]) -> str:
    items = "".join(
        f"<li id='{_e(case_anchor(c.id))}' class='passed'><b>{_e(c.id)}</b> "
        f"[{_e(c.rule)}, {c.level.value}] {_e(c.title)} "
        f"<span class='skipped'>({sum(1 for k in c.checks if not k.cleanup)} checks"
        f"{', ' + _e(c.source) if c.source else ''})</span></li>"
        for c in cases
    )
    return f"<h2 id='passed'>Passed ({len(cases)})</h2><ul>{items}</ul>"


def _index(title: str, prefix: str, groups: dict[str, list[tuple[str, Outcome]]]) -> str:
    parts = [f"<h2>{title}</h2>"]
    for key in sorted(groups):
        by_outcome: dict[Outcome, list[str]] = defaultdict(list)
        for case_id, outcome in groups[key]:
            by_outcome[outcome].append(case_id)
        lines = "".join(
            f"<li class='{_css(o)}'>{o.value} ({len(by_outcome[o])}): "
            + ", ".join(_link(i) for i in by_outcome[o])
            + "</li>"
            for o in reversed(OUTCOME_ORDER)
            if by_outcome.get(o)
        )
        parts.append(f"<h3 id='{prefix}-{_e(key)}'>{_e(key)}</h3><ul>{lines}</ul>")
    return "".join(parts)


def render(run: RunResult) -> str:
    """The report page as a string."""
    not_passed = [c for c in run.cases if c.outcome is not Outcome.PASSED]
    passed = [c for c in run.cases if c.outcome is Outcome.PASSED]
    by_operation: dict[str, list[tuple[str, Outcome]]] = defaultdict(list)
    by_rule: dict[str, list[tuple[str, Outcome]]] = defaultdict(list)
    for case in run.cases:
        for op, outcome in case.operation_outcomes().items():
            by_operation[op].append((case.id, outcome))
        by_rule[case.rule].append((case.id, case.outcome))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>kic-conformance: {_e(run.verdict)}</title><style>{CSS}</style></head><body>"
        "<h1>kic-conformance report</h1>"
        f"{_summary(run)}"
        f"{_causes(run)}"
        f"{_matrix('Operations (steps under test)', 'operation', 'op', run.by_operation())}"
        f"{_matrix('Rules', 'rule', 'rule', run.by_rule())}"
        f"{_coverage(run)}"
        f"<h2>Not passed ({len(not_passed)})</h2>"
        + "".join(_case(c) for c in not_passed)
        + f"<h2>Cleanup problems ({run.cleanup_problem_count()})</h2>"
        f"<p>{_e(CLEANUP_NOTE)}.</p>"
        + "".join(_cleanup(c) for c in run.cases_with_cleanup_problems())
        + _passed(passed)
        + _index("Cases by operation (steps under test)", "op", by_operation)
        + _index("Cases by rule", "rule", by_rule)
        + "</body></html>\n"
    )


def write(run: RunResult, path: str | Path) -> None:
    """Write the self-contained HTML report to ``path``."""
    Path(path).write_text(render(run), encoding="utf-8")
