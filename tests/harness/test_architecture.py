"""The package picture of docs/architecture.md holds: zgw imports none of the others, the
servers never import the harness or each other, and the harness reaches a server only through
harness/environment.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("zgw", "harness", "reference_kic", "mock_drc")


def imported_packages(file: Path) -> set[str]:
    """The project packages ``file`` imports, anywhere in it (function-local imports too)."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(PACKAGES)
    return found


def imports_of(package: str) -> dict[str, set[str]]:
    return {
        str(file.relative_to(ROOT)): imported_packages(file) - {package}
        for file in sorted((ROOT / package).rglob("*.py"))
    }


def test_zgw_is_the_ground_floor() -> None:
    assert {f: i for f, i in imports_of("zgw").items() if i} == {}


def test_the_servers_stand_only_on_zgw() -> None:
    for server in ("reference_kic", "mock_drc"):
        assert {f: i for f, i in imports_of(server).items() if i - {"zgw"}} == {}


def test_only_the_environment_imports_a_server() -> None:
    servers = {"reference_kic", "mock_drc"}
    importing = {f for f, i in imports_of("harness").items() if i & servers}
    assert importing == {"harness/environment.py"}
