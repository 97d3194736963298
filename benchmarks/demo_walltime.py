"""Wall time of the whole ``kic-conformance demo``, split per phase, and under pytest-xdist.

1. Phases, measured in this process with the harness's own functions: start-up (importing
   the harness, the reference KIC and the mock DRC, in a fresh interpreter; then starting the
   embedded environment), scenarios (``harness.runner.run`` without fuzzing), fuzzing
   (``harness.fuzz.run_fuzz`` with 25 examples per operation) and reports (terminal, JUnit,
   JSON, HTML).
2. The command itself, end to end: ``kic-conformance demo --junit --json --html``.
3. The pytest front end: ``pytest -n 2 --kic-demo --kic-fuzz-examples 25 scenarios``.

Prints figures and the "demo <= 60 s" target; never asserts.

    python benchmarks/demo_walltime.py [--fuzz-examples 25] [--skip-pytest]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import at_most

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IMPORTS = "import harness.cli, harness.runner, harness.fuzz, reference_kic.app, mock_drc.app"


def timed_command(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, exit code and the last output line of one command."""
    started = time.perf_counter()
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
    return seconds, completed.returncode, lines[-1][:110] if lines else ""


def phases(fuzz_examples: int, workdir: Path) -> dict[str, float]:
    """Seconds per demo phase, measured with the harness's functions."""
    from rich.console import Console

    import_s, _, _ = timed_command([sys.executable, "-c", IMPORTS], ROOT)
    started = time.perf_counter()
    from harness.environment import embedded_environment
    from harness.fuzz import run_fuzz
    from harness.report import html, json_report, junit, terminal
    from harness.run import run

    figures = {"start-up: imports (fresh interpreter)": import_s}
    with embedded_environment(fuzz_examples=fuzz_examples) as config:
        figures["start-up: embedded KIC + mock DRC"] = time.perf_counter() - started
        config.fuzz_examples = 0
        mark = time.perf_counter()
        result = run(config)
        figures[f"scenarios ({len(result.cases)}, {config.workers} threads)"] = (
            time.perf_counter() - mark
        )
        config.fuzz_examples = fuzz_examples
        mark = time.perf_counter()
        before = len(result.cases)
        run_fuzz(config, result)
        figures[f"fuzz ({len(result.cases) - before} operations x {fuzz_examples} examples)"] = (
            time.perf_counter() - mark
        )
        mark = time.perf_counter()
        terminal.render(result, Console(file=io.StringIO(), width=120))
        junit.write(result, workdir / "demo.xml")
        json_report.write(result, workdir / "demo.json")
        html.write(result, workdir / "demo.html")
        figures["reports (terminal, JUnit, JSON, HTML)"] = time.perf_counter() - mark
        figures["(verdict: " + result.verdict + ")"] = 0.0
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz-examples", type=int, default=25)
    parser.add_argument("--skip-pytest", action="store_true", help="leave out the pytest run")
    args = parser.parse_args(argv)
    print(f"kic-conformance demo wall time (fuzz: {args.fuzz_examples} examples per operation)")
    with tempfile.TemporaryDirectory(prefix="kic-demo-bench-") as tmp:
        workdir = Path(tmp)
        figures = phases(args.fuzz_examples, workdir)
        total = sum(figures.values())
        for name, seconds in figures.items():
            print(f"  {name:<48} {seconds:>7.1f} s" if seconds else f"  {name}")
        print(f"  {'sum of the phases':<48} {total:>7.1f} s")

        cli_s, cli_code, cli_last = timed_command(
            [
                str(BIN / "kic-conformance"), "demo",
                "--fuzz-examples", str(args.fuzz_examples),
                "--junit", str(workdir / "cli.xml"), "--json", str(workdir / "cli.json"),
                "--html", str(workdir / "cli.html"),
            ],
            workdir,
        )  # fmt: skip
        print(f"  {'kic-conformance demo (whole command)':<48} {cli_s:>7.1f} s   "
              f"exit {cli_code}: {cli_last}")  # fmt: skip
        if not args.skip_pytest:
            pytest_s, pytest_code, pytest_last = timed_command(
                [
                    sys.executable, "-m", "pytest", "-n", "2", "--kic-demo",
                    "--kic-fuzz-examples", str(args.fuzz_examples), "-q", "-p", "no:warnings",
                    "scenarios",
                ],
                ROOT,
            )  # fmt: skip
            print(f"  {'pytest -n 2 --kic-demo (2 processes)':<48} {pytest_s:>7.1f} s   "
                  f"exit {pytest_code}: {pytest_last}")  # fmt: skip
    print()
    print(at_most("kic-conformance demo (scenarios + fuzz, 25 examples)", cli_s, 60, "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
