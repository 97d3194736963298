"""JSON report: the whole result model as one JSON document (:meth:`RunResult.to_dict`), and
reading it back (:meth:`RunResult.from_dict`)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import redact_tree
from harness.results import RunResult


def dumps(run: RunResult) -> str:
    """The run as JSON text (tokens masked)."""
    return json.dumps(redact_tree(run.to_dict()), indent=2, ensure_ascii=False, default=str)


def write(run: RunResult, path: str | Path) -> None:
    """Write the JSON report to ``path``."""
    Path(path).write_text(dumps(run) + "\n", encoding="utf-8")


def read(path: str | Path) -> RunResult:
    """Read a JSON report written by :func:`write`."""
    return RunResult.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
