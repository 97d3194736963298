"""The harness stays in the shape issue 10 ("one home per fact") asked for: runner.py runs one
scenario and stays small, functions outside the reports stay short enough to read at once, and
the mock DRC's API paths are written in drc_control.py only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "harness"
RUNNER_MAX_LINES = 350
FUNCTION_MAX_LINES = 60
DRC_API_PATHS = ("/documenten/api/v1", "/zaken/api/v1")


def harness_files() -> list[Path]:
    """The harness's modules outside harness/report/ (reports may be long by nature)."""
    return [
        f for f in sorted(HARNESS.rglob("*.py")) if "report" not in f.relative_to(HARNESS).parts
    ]


def test_runner_stays_under_its_limit() -> None:
    lines = len((HARNESS / "runner.py").read_text(encoding="utf-8").splitlines())
    assert lines < RUNNER_MAX_LINES, f"harness/runner.py has {lines} lines"


def test_no_function_outside_the_reports_is_over_the_limit() -> None:
    long = []
    for file in harness_files():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                name = f"{file.relative_to(ROOT)}:{node.name}"
                if length > FUNCTION_MAX_LINES:
                    long.append(f"{name} (line {node.lineno}): {length} lines")
    assert long == []


def test_the_drc_api_paths_are_written_in_drc_control_only() -> None:
    """Every other module asks drc_control (documents_path, zaken_path, the roots)."""
    writing = set()
    for file in harness_files():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and any(path in text for path in DRC_API_PATHS):
                writing.add(str(file.relative_to(ROOT)))
    assert writing == {"harness/drc_control.py"}
