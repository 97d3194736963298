"""JSON report: the whole result model as one JSON document (:meth:`RunResult.to_dict`), and
reading it back (:meth:`RunResult.from_dict`).

The document opens with what a reader wants first: the verdict, the exit code, the run mode,
why the run is incomplete (if it is), whether it was interrupted, and the failure causes,
worst first; the rest follows in :meth:`RunResult.to_dict` order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.report import incomplete_reasons, interrupted, redact_tree, run_mode
from harness.results import RunResult

#: The keys the document opens with, in this order.
LEADING = ("verdict", "exit_code", "mode", "incomplete_reasons", "interrupted", "causes")


def document(run: RunResult) -> dict[str, Any]:
    """The JSON-ready report: :meth:`RunResult.to_dict`, the leading keys first."""
    data = run.to_dict()
    data.setdefault("mode", run_mode(run))
    data.setdefault("incomplete_reasons", incomplete_reasons(run))
    data.setdefault("interrupted", interrupted(run))
    data.setdefault("causes", [c.to_dict() for c in run.causes()])
    return {**{k: data[k] for k in LEADING}, **data}


def dumps(run: RunResult) -> str:
    """The run as JSON text (tokens masked)."""
    return json.dumps(redact_tree(document(run)), indent=2, ensure_ascii=False, default=str)


def write(run: RunResult, path: str | Path) -> None:
    """Write the JSON report to ``path``."""
    Path(path).write_text(dumps(run) + "\n", encoding="utf-8")


def read(path: str | Path) -> RunResult:
    """Read a JSON report written by :func:`write`."""
    return RunResult.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
