"""HTML report: one self-contained page (no external assets) with the verdict, the counts,
the operation x outcome and rule x outcome matrices, the coverage of operations x documented
status codes observed, every non-passed case with its full requests and responses, and the
cleanup problems (failed ``finally:`` checks, outside the verdict) with theirs."""

from __future__ import annotations

import html
from pathlib import Path

from harness.report import redact
from harness.report.text import CLEANUP_NOTE, exchange_text
from harness.results import OUTCOME_ORDER, CaseResult, CheckResult, Outcome, RunResult

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1 .v{padding:.1em .4em;border-radius:4px;color:#fff}
.CONFORMANT{background:#2a7d2a}.NOT{background:#b22}.COULD{background:#848}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em}
td.n{text-align:right}.passed{color:#2a7d2a}.failed{color:#b22}.error{color:#848}
.warning{color:#a60}.differs{color:#07a}.skipped{color:#888}.cleanup{color:#a60}
td.seen{background:#dfd}td.unseen{background:#fee}td.extra{background:#ffd}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}
details{margin:.5em 0 1em 0}summary{cursor:pointer}
"""


def _e(text: object) -> str:
    return html.escape(redact(str(text)))


def _matrix(title: str, label: str, rows: dict) -> str:
    head = "".join(f"<th class='{o.value}'>{o.value}</th>" for o in OUTCOME_ORDER)
    body = "".join(
        f"<tr><td>{_e(key)}</td>"
        + "".join(
            f"<td class='n {o.value}'>{rows[key].get(o, 0) or ''}</td>" for o in OUTCOME_ORDER
        )
        + "</tr>"
        for key in sorted(rows)
    )
    return f"<h2>{title}</h2><table><tr><th>{label}</th>{head}</tr>{body}</table>"


def _coverage(run: RunResult) -> str:
    documented = run.documented_statuses
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
            if status in documented.get(op, []):
                css = "seen" if count else "unseen"
                cells.append(f"<td class='n {css}'>{count or ''}</td>")
            elif count:
                cells.append(f"<td class='n extra' title='not documented'>{count}</td>")
            else:
                cells.append("<td></td>")
        rows.append(f"<tr><td>{_e(op)}</td>{''.join(cells)}</tr>")
    return (
        "<h2>Coverage: documented status codes observed</h2>"
        "<p>Green: documented and observed; red: documented, never observed; "
        "yellow: observed but not documented.</p>"
        f"<table><tr><th>operation</th>{head}</tr>{''.join(rows)}</table>"
    )


def _checks_table(checks: list[CheckResult]) -> str:
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td class='{check.level.value}'>{check.level.value}</td><td>{_e(check.name)}"
        f"</td><td>{_e(check.message)}</td><td><code>{_e(check.expected)}</code></td>"
        f"<td><code>{_e(check.actual)[:2000]}</code></td></tr>"
        for check in checks
    )
    return (
        "<table><tr><th>level</th><th>check</th><th>problem</th><th>expected</th>"
        f"<th>actual</th></tr>{rows}</table>"
    )


def _exchanges(case: CaseResult, checks: list[CheckResult], only_pointed_at: bool) -> str:
    """The case's exchanges; those ``checks`` point at are unfolded (with ``only_pointed_at``,
    the others are left out)."""
    pointed = {c.exchange_index for c in checks}
    parts = []
    for index, exchange in enumerate(case.exchanges):
        if only_pointed_at and index not in pointed:
            continue
        open_ = " open" if index in pointed else ""
        parts.append(
            f"<details{open_}><summary>exchange {index + 1}: {_e(exchange.method)} "
            f"{_e(exchange.url)} &rarr; {_e(exchange.status or exchange.error)}</summary>"
            f"<pre>{html.escape(exchange_text(exchange))}</pre></details>"
        )
    return "".join(parts)


def _heading(case: CaseResult, css: str, label: str, anchor: str) -> str:
    return (
        f"<h3 class='{css}' id='{anchor}'>{label} {_e(case.id)}</h3><p>{_e(case.title)}<br>"
        f"rule <b>{_e(case.rule)}</b>, level <b>{case.level.value}</b>"
        f"{', scenario ' + _e(case.source) if case.source else ''}</p>"
    )


def _case(case: CaseResult) -> str:
    parts = [_heading(case, case.outcome.value, case.outcome.value.upper(), _e(case.id))]
    if case.skip_reason:
        parts.append(f"<p>Skipped: {_e(case.skip_reason)}</p>")
    if case.error:
        parts.append(f"<pre>{_e(case.error)}</pre>")
    failed = case.failed_checks()
    parts.append(_checks_table(failed))
    if case.cleanup_problems():
        parts.append(
            f"<p class='cleanup'>Also has <a href='#cleanup-{_e(case.id)}'>cleanup "
            "problems</a>.</p>"
        )
    parts.append(_exchanges(case, failed, only_pointed_at=False))
    if case.reproduce:
        parts.append(f"<p>Reproduce: <code>{_e(case.reproduce)}</code></p>")
    return "".join(parts)


def _cleanup(case: CaseResult) -> str:
    problems = case.cleanup_problems()
    label = f"CLEANUP ({case.outcome.value})"
    return (
        _heading(case, "cleanup", label, f"cleanup-{_e(case.id)}")
        + _checks_table(problems)
        + _exchanges(case, problems, only_pointed_at=True)
    )


def render(run: RunResult) -> str:
    """The report page as a string."""
    counts = run.counts()
    summary = "".join(
        f"<li class='{o.value}'>{o.value}: {counts.get(o, 0)}</li>" for o in OUTCOME_ORDER
    )
    not_passed = [c for c in run.cases if c.outcome is not Outcome.PASSED]
    aborted = f"<pre>{_e(run.aborted)}</pre>" if run.aborted else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>kic-conformance: {_e(run.verdict)}</title><style>{CSS}</style></head><body>"
        f"<h1>kic-conformance <span class='v {run.verdict.split()[0]}'>{_e(run.verdict)}</span>"
        f"</h1><p>Target <code>{_e(run.target)}</code>, KIC {_e(run.spec_version)}, "
        f"{_e(run.started_at)} to {_e(run.finished_at)}, fuzz seed {_e(run.fuzz_seed)}</p>"
        f"{aborted}<ul>{summary}<li class='cleanup'>cleanup problems: "
        f"{run.cleanup_problem_count()}</li></ul>"
        f"{_matrix('Operations', 'operation', run.by_operation())}"
        f"{_matrix('Rules', 'rule', run.by_rule())}"
        f"{_coverage(run)}"
        f"<h2>Not passed ({len(not_passed)})</h2>"
        + "".join(_case(c) for c in not_passed)
        + f"<h2>Cleanup problems ({run.cleanup_problem_count()})</h2><p>{_e(CLEANUP_NOTE)}.</p>"
        + "".join(_cleanup(c) for c in run.cases_with_cleanup_problems())
        + "</body></html>\n"
    )


def write(run: RunResult, path: str | Path) -> None:
    """Write the self-contained HTML report to ``path``."""
    Path(path).write_text(render(run), encoding="utf-8")
