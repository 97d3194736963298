"""Terminal report (rich): first the distinct failure causes, worst first, then the tables
per operation (steps under test) and per rule, short enough to read on one screen; then the
details: every non-passed case with its failed checks, exact exchanges and the mock DRC's side,
the cleanup problems, the fuzz seed with the option that repeats it, and the verdict line.

Text is printed without hard wrapping (``soft_wrap``), so a log or a pipe gets whole lines
that can be searched and pasted."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.report import redact
from harness.report.text import (
    CLEANUP_NOTE,
    case_text,
    cause_evidences,
    cause_heading,
    cause_scope,
    causes_heading,
    cleanup_text,
)
from harness.results import OUTCOME_ORDER, Cause, Outcome, RunResult

STYLES = {
    Outcome.PASSED: "green",
    Outcome.SKIPPED: "dim",
    Outcome.DIFFERS: "cyan",
    Outcome.WARNING: "yellow",
    Outcome.PRECONDITION_FAILED: "red",
    Outcome.FAILED: "red",
    Outcome.ERROR: "magenta",
}
CLEANUP_STYLE = "yellow"
#: Causes listed above the details; the rest are counted (every one is in the details).
CAUSES_SHOWN = 12


def _causes(causes: list[Cause], console: Console) -> None:
    if not causes:
        console.print("[green]No failures.[/]", highlight=False)
        return
    console.print(f"[bold]{escape(causes_heading(causes))}[/]", highlight=False)
    shown = causes[:CAUSES_SHOWN]
    for number, (cause, evidence) in enumerate(zip(shown, cause_evidences(shown), strict=True), 1):
        console.print(
            f"{number:>3}. {escape(cause_heading(cause))}",
            style=STYLES[cause.worst_case_outcome],
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"     {escape(cause_scope(cause))}", highlight=False, soft_wrap=True)
        if evidence:
            console.print(f"     {escape(redact(evidence))}", highlight=False, soft_wrap=True)
    if len(causes) > CAUSES_SHOWN:
        console.print(f"     ... and {len(causes) - CAUSES_SHOWN} more causes (in the details)")


def _matrix(title: str, label: str, rows: dict, console: Console) -> None:
    """Rows where something did not pass; the all-passed rest as one line, so the table
    stays short whatever the size of the library (the JSON and HTML reports have every row)."""
    columns = [o for o in OUTCOME_ORDER if any(rows[k].get(o) for k in rows)] or [Outcome.PASSED]
    shown = sorted(k for k in rows if set(rows[k]) - {Outcome.PASSED})
    quiet = [k for k in rows if k not in shown]
    passed = sum(rows[k].get(Outcome.PASSED, 0) for k in quiet)
    if shown:
        table = Table(title=title, title_justify="left")
        table.add_column(label)
        for outcome in columns:
            table.add_column(outcome.value, justify="right", style=STYLES[outcome])
        for key in shown:
            counts = rows[key]
            table.add_row(escape(key), *(str(counts.get(o, 0) or "") for o in columns))
        console.print(table)
    if quiet:
        lead = f"{len(quiet)} other {label}s" if shown else f"{title}: all {len(quiet)} {label}s"
        console.print(
            f"{lead}: every case passed ({passed} {'case' if passed == 1 else 'cases'})",
            style=STYLES[Outcome.PASSED],
            highlight=False,
        )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def fuzz_line(run: RunResult) -> str | None:
    """The fuzz seed and the options that generate the same requests again (None: no fuzzing)."""
    if not run.fuzzed or run.fuzz_seed is None:
        return None
    # The generated requests depend on the seed and on the examples per operation.
    examples = run.settings.get("fuzz_examples")
    per_operation = f" ({_plural(examples, 'example')} per operation)" if examples else ""
    options = f"--fuzz-seed {run.fuzz_seed}" + (f" --fuzz-examples {examples}" if examples else "")
    return (
        f"fuzz seed {run.fuzz_seed}{per_operation}; to repeat the same generated requests, "
        f"run kic-conformance with {options}"
    )


def render(run: RunResult, console: Console) -> None:
    """Print the whole report of ``run`` to ``console``."""
    if run.cases:
        _causes(run.causes(), console)
        console.print()
        _matrix("Operations (steps under test)", "operation", run.by_operation(), console)
        _matrix("Rules", "rule", run.by_rule(), console)
        not_passed = [c for c in run.cases if c.outcome is not Outcome.PASSED]
        if not_passed:
            console.rule("Details: every case that did not pass")
        for case in not_passed:
            # Cleanup problems get their own section below, so they are not printed twice.
            text = case_text(case, cleanup=False)
            console.print(escape(text), style=STYLES[case.outcome], highlight=False, soft_wrap=True)
            console.print()
        untidy = run.cases_with_cleanup_problems()
        if untidy:
            console.rule(f"Cleanup problems ({CLEANUP_NOTE})")
        for case in untidy:
            console.print(
                escape(cleanup_text(case)), style=CLEANUP_STYLE, highlight=False, soft_wrap=True
            )
            console.print()
    counts = run.counts()
    summary = ", ".join(f"{counts[o]} {o.value}" for o in OUTCOME_ORDER if counts.get(o))
    if run.aborted:
        console.print(
            f"[magenta]could not run:[/] {escape(redact(run.aborted))}",
            highlight=False,
            soft_wrap=True,
        )
    cleanup = run.cleanup_problem_count()
    if cleanup:
        cases = _plural(len(run.cases_with_cleanup_problems()), "case")
        console.print(
            f"[{CLEANUP_STYLE}]cleanup problems: {_plural(cleanup, 'failed check')} in "
            f"{cases}[/] ({CLEANUP_NOTE})",
            highlight=False,
            soft_wrap=True,
        )
        summary += f"; cleanup problems in {cases}"
    fuzz = fuzz_line(run)
    if fuzz:
        console.print(escape(fuzz), highlight=False, soft_wrap=True)
    if run.mode is not None:
        console.print(f"mode: {escape(run.mode.describe())}", highlight=False, soft_wrap=True)
    console.print(verdict_line(run, summary), highlight=False, soft_wrap=True)


VERDICT_STYLES = {
    "CONFORMANT": "bold green",
    "NOT CONFORMANT": "bold red",
    "NO FAILURES": "bold yellow",
}


def verdict_line(run: RunResult, summary: str | None = None) -> str:
    """The last line of every terminal report (rich markup): verdict, target, counts."""
    if summary is None:
        counts = run.counts()
        summary = ", ".join(f"{counts[o]} {o.value}" for o in OUTCOME_ORDER if counts.get(o))
    style = VERDICT_STYLES.get(run.verdict_state, "bold magenta")
    return (
        f"[{style}]{escape(run.verdict)}[/] {escape(run.target)} "
        f"(KIC {escape(run.spec_version or '?')}; {summary or 'no cases'})"
    )
