"""Terminal report (rich): verdict tables per operation and per rule, every non-passed case
with its failed checks and exact exchanges, the cleanup problems, the fuzz seed with the
option that repeats it, and the final verdict line."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.report import redact
from harness.report.text import CLEANUP_NOTE, case_text, cleanup_text
from harness.results import OUTCOME_ORDER, Outcome, RunResult

STYLES = {
    Outcome.PASSED: "green",
    Outcome.SKIPPED: "dim",
    Outcome.DIFFERS: "cyan",
    Outcome.WARNING: "yellow",
    Outcome.FAILED: "red",
    Outcome.ERROR: "magenta",
}
CLEANUP_STYLE = "yellow"


def _matrix(title: str, label: str, rows: dict, console: Console) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    for outcome in OUTCOME_ORDER:
        table.add_column(outcome.value, justify="right", style=STYLES[outcome])
    for key in sorted(rows):
        counts = rows[key]
        table.add_row(escape(key), *(str(counts.get(o, 0) or "") for o in OUTCOME_ORDER))
    console.print(table)


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
        _matrix("Operations", "operation", run.by_operation(), console)
        _matrix("Rules", "rule", run.by_rule(), console)
        not_passed = [c for c in run.cases if c.outcome is not Outcome.PASSED]
        if not_passed:
            console.rule("Not passed")
        for case in not_passed:
            # Cleanup problems get their own section below, so they are not printed twice.
            text = case_text(case, cleanup=False)
            console.print(escape(text), style=STYLES[case.outcome], highlight=False)
            console.print()
        untidy = run.cases_with_cleanup_problems()
        if untidy:
            console.rule(f"Cleanup problems ({CLEANUP_NOTE})")
        for case in untidy:
            console.print(escape(cleanup_text(case)), style=CLEANUP_STYLE, highlight=False)
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
