"""JUnit XML report: one testcase per case; must-failures are failures, errors are errors.

Warnings (should) and reference differences pass, with the details in ``system-out``, so CI
dashboards count exactly the non-conformances; a precondition failed case is a failure of type
``precondition``. Cleanup problems (failed ``finally:`` checks) never fail a testcase either:
they are in the case's text and, for a passed case, in its ``system-out``; the suite property
``cleanup_problems`` counts them.

The summary opens with the causes: the suite's first properties are ``cause.1``, ``cause.2``
... (worst first, one line each: outcome, check, message, reach), and the suite's
``system-out`` holds the same list with the run mode.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import redact, run_mode
from harness.report.text import (
    case_text,
    cause_evidences,
    cause_heading,
    cause_scope,
    causes_text,
    cleanup_text,
)
from harness.results import Level, Outcome, RunResult


def to_element(run: RunResult) -> ET.Element:
    """The report as an ElementTree element (``<testsuites>``)."""
    counts = run.counts()
    suites = ET.Element("testsuites", name="kic-conformance")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"kic-conformance {run.target}",
        tests=str(len(run.cases)),
        failures=str(counts.get(Outcome.FAILED, 0) + counts.get(Outcome.PRECONDITION_FAILED, 0)),
        errors=str(counts.get(Outcome.ERROR, 0) + (1 if run.aborted else 0)),
        skipped=str(counts.get(Outcome.SKIPPED, 0)),
        time=f"{sum(c.duration_s for c in run.cases):.3f}",
        timestamp=run.started_at,
    )
    properties = ET.SubElement(suite, "properties")
    causes = run.causes()
    evidences = cause_evidences(causes)
    summary = [
        (f"cause.{n}", "; ".join(filter(None, [cause_heading(c), cause_scope(c), evidence])))
        for n, (c, evidence) in enumerate(zip(causes, evidences, strict=True), 1)
    ]
    summary += [
        ("verdict", run.verdict),
        ("exit_code", str(run.exit_code)),
        ("spec_version", run.spec_version),
        ("fuzz_seed", str(run.fuzz_seed)),
        ("cleanup_problems", str(run.cleanup_problem_count())),
        ("incomplete", "; ".join(run.incomplete_reasons)),
        ("interrupted", str(run.interrupted).lower()),
        *_mode_properties(run),
    ]
    for name, value in summary:
        ET.SubElement(properties, "property", name=name, value=redact(value))
    if run.aborted:
        case = ET.SubElement(suite, "testcase", classname="run", name="run")
        ET.SubElement(case, "error", message="could not run").text = redact(run.aborted)
    for result in run.cases:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=f"{result.kind}.{result.rule}",
            name=result.id,
            time=f"{result.duration_s:.3f}",
        )
        if result.source:
            element.set("file", result.source.rsplit(":", 1)[0])
        outcome = result.outcome
        details = case_text(result)
        if outcome in (Outcome.FAILED, Outcome.PRECONDITION_FAILED):
            first = next(c for c in result.failed_checks() if c.level is Level.MUST)
            kind = "must" if outcome is Outcome.FAILED else "precondition"
            ET.SubElement(
                element, "failure", message=redact(first.message)[:500], type=kind
            ).text = details
        elif outcome is Outcome.ERROR:
            ET.SubElement(element, "error", message=redact(result.error or "")[:500]).text = details
        elif outcome is Outcome.SKIPPED:
            ET.SubElement(element, "skipped", message=result.skip_reason or "")
        elif outcome in (Outcome.WARNING, Outcome.DIFFERS):
            ET.SubElement(element, "system-out").text = details
        # The texts above include cleanup problems; passed and skipped cases have no text yet.
        if outcome in (Outcome.PASSED, Outcome.SKIPPED) and result.cleanup_problems():
            ET.SubElement(element, "system-out").text = cleanup_text(result)
    mode = "\n".join(f"{k}: {v}" for k, v in run_mode(run).items())
    ET.SubElement(suite, "system-out").text = redact(
        f"{run.verdict}\n{causes_text(causes)}" + (f"\n\nrun mode:\n{mode}" if mode else "")
    )
    return suites


def _mode_properties(run: RunResult) -> list[tuple[str, str]]:
    """The run mode as properties: ``mode`` in words and ``mode.<field>`` each."""
    if run.mode is None:
        return []
    fields = [
        (f"mode.{key}", value if isinstance(value, str) else json.dumps(value))
        for key, value in dataclasses.asdict(run.mode).items()
    ]
    return [("mode", run.mode.describe()), *fields]


def write(run: RunResult, path: str | Path) -> None:
    """Write the JUnit XML report to ``path``."""
    tree = ET.ElementTree(to_element(run))
    ET.indent(tree)
    tree.write(Path(path), encoding="utf-8", xml_declaration=True)
