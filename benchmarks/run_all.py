"""Run every benchmark once and print one report (optionally also as Markdown).

Order: reference KIC throughput, kic-001 under concurrency (and slow clients), cost growth,
demo wall time, mock DRC latency, fuzz phase versus schemathesis. Each runs as its own
process with this interpreter, one after the other, so they never compete for the CPU. The
report starts with the machine (cores, memory, CPU model, Python) and the commit.
Benchmarks print figures; nothing here asserts.

    .venv/bin/python benchmarks/run_all.py [--quick] [--markdown docs/figures.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from zgw import procfs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: (script, arguments for a full run, arguments for --quick)
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("kic_throughput.py", [], ["--quick"]),
    ("kic_concurrency.py", [], ["--quick"]),
    ("cost_growth.py", [], ["--sizes", "1000,10000"]),
    ("demo_walltime.py", [], ["--skip-pytest"]),
    ("mock_drc_latency.py", [], ["--requests", "100"]),
    ("fuzz_vs_schemathesis.py", [], ["--examples", "25"]),
]


def machine() -> list[str]:
    """Cores, memory, CPU model and Python version of this machine."""
    free = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return [
        f"date (UTC): {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}",
        f"commit: {commit or 'unknown'}",
        f"nproc: {os.cpu_count()}",
        f"CPU: {procfs.cpu_model() or 'unknown'}",
        f"Python: {platform.python_version()} ({sys.executable})",
        f"load average before the run: {' '.join(f'{load:.2f}' for load in os.getloadavg())}",
        "free -g:",
        *[f"  {line}" for line in free.splitlines()],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown here")
    parser.add_argument("--only", action="append", help="run only this script (repeatable)")
    args = parser.parse_args(argv)
    report = ["# machine", *machine(), ""]
    print("\n".join(report), flush=True)
    started = time.perf_counter()
    for script, full, quick in BENCHMARKS:
        if args.only and script not in args.only:
            continue
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        header = f"# {script} {' '.join(command[2:])}".rstrip()
        print(header, flush=True)
        if not (HERE / script).exists():
            lines = ["(not present in this checkout)"]
        else:
            began = time.perf_counter()
            completed = subprocess.run(
                command, cwd=HERE, capture_output=True, text=True, timeout=3600
            )
            output = completed.stdout + (
                f"\n(exit {completed.returncode})\n{completed.stderr[-3000:]}"
                if completed.returncode
                else ""
            )
            lines = [
                line for line in output.splitlines() if "InsecureKeyLengthWarning" not in line
            ] + [f"(wall time {time.perf_counter() - began:.0f} s)"]
        print("\n".join(lines) + "\n", flush=True)
        report += [header, *lines, ""]
    report.append(f"# all benchmarks: {time.perf_counter() - started:.0f} s")
    print(report[-1])
    if args.markdown:
        write_markdown(args.markdown, report, argv if argv is not None else sys.argv[1:])
    return 0


def write_markdown(path: Path, report: list[str], argv: list[str]) -> None:
    """The report as a Markdown page: the command, then the output verbatim."""
    command = " ".join(["python benchmarks/run_all.py", *argv])
    text = [
        "# Figures",
        "",
        "The output of one run of every benchmark, verbatim. The load tool (plain Python,",
        "`benchmarks/loadgen.py`) ran on the same machine as the servers, so it shares the CPU.",
        "",
        "Command (from the repository root, with the dev venv):",
        "",
        "```",
        command,
        "```",
        "",
        "```",
        *report,
        "```",
        "",
    ]
    path.write_text("\n".join(text))


if __name__ == "__main__":
    sys.exit(main())
