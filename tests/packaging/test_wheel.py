"""The wheel carries the contract: built from a copy of the checkout, installed in a fresh
virtual environment (dependencies from the package indexes pip is configured with) where the
checkout is not importable, ``kic-conformance demo --no-fuzz`` run from an empty folder passes
every scenario of the library."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenarios import load_library

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: What a clean clone does not have: build output, caches, virtual environments.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "reports", "*.sqlite3",
)  # fmt: skip
#: Generous: installing the dependencies of a fresh environment takes a while.
STEP_SECONDS = 600


def _run(
    command: list[str], cwd: Path, env: dict[str, str], expected: int = 0
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_SECONDS
    )
    assert done.returncode == expected, (
        f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def test_the_installed_wheel_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    source, wheels, venv, empty = (tmp_path / n for n in ("src", "wheels", "venv", "empty"))
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_IN_A_CLONE)
    empty.mkdir()
    # Nothing may lead the fresh interpreter back to the checkout.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)

    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."],
         source, env)  # fmt: skip
    [wheel] = wheels.glob("kic_conformance-*.whl")
    _run([sys.executable, "-m", "venv", str(venv)], empty, env)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], empty, env)

    where = _run([str(python), "-c", "import harness, zgw; print(harness.__file__)"], empty, env)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout, where.stdout

    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    version = _run([str(bin_dir / "kic-conformance"), "--version"], empty, env)
    assert version.stdout.startswith("kic-conformance "), version.stdout
    # Without fuzzing the run is complete but for that: exit 3, no failures.
    demo = _run([str(bin_dir / "kic-conformance"), "demo", "--no-fuzz"], empty, env, expected=3)
    scenarios = len(load_library())  # a matrix file gives many
    verdict = demo.stdout.rstrip().splitlines()[-1]
    assert verdict.startswith("NO FAILURES (incomplete: no fuzzing) "), demo.stdout[-2000:]
    assert verdict.endswith(f"; {scenarios} passed)"), verdict
    assert list(empty.iterdir()) == []  # the run leaves nothing behind in the working folder
