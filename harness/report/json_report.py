"""JSON report: the whole result model as one JSON document, and reading it back."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness.report import redact_tree
from harness.results import CaseResult, CheckResult, Exchange, Level, RunResult


def dumps(run: RunResult) -> str:
    """The run as JSON text (tokens masked)."""
    return json.dumps(redact_tree(run.to_dict()), indent=2, ensure_ascii=False, default=str)


def write(run: RunResult, path: str | Path) -> None:
    """Write the JSON report to ``path``."""
    Path(path).write_text(dumps(run) + "\n", encoding="utf-8")


def from_dict(data: dict[str, Any]) -> RunResult:
    """Rebuild a :class:`RunResult` from :meth:`RunResult.to_dict` output (derived keys ignored)."""
    cases = []
    for raw in data.get("cases", []):
        fields = {k: v for k, v in raw.items() if k not in ("outcome", "checks", "exchanges")}
        fields["level"] = Level(fields["level"])
        case = CaseResult(**fields)
        case.checks = [CheckResult(**{**c, "level": Level(c["level"])}) for c in raw["checks"]]
        case.exchanges = [Exchange(**e) for e in raw["exchanges"]]
        cases.append(case)
    observed: dict[str, Counter[int]] = defaultdict(Counter)
    for op, statuses in (data.get("observed_statuses") or {}).items():
        observed[op] = Counter({int(s): n for s, n in statuses.items()})
    return RunResult(
        target=data["target"],
        started_at=data["started_at"],
        finished_at=data.get("finished_at", ""),
        spec_version=data.get("spec_version", ""),
        fuzz_seed=data.get("fuzz_seed"),
        settings=data.get("settings", {}),
        cases=cases,
        observed_statuses=observed,
        aborted=data.get("aborted"),
    )


def read(path: str | Path) -> RunResult:
    """Read a JSON report written by :func:`write`."""
    return from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
