"""Wall time of the harness's fuzz phase next to plain ``schemathesis run``, same N and seed.

Starts the embedded environment once (reference KIC + mock DRC, in-process, loopback), then
for each N times :func:`harness.fuzz.run_fuzz` and the schemathesis CLI against the same
server with the same ``Authorization`` header, the same ``--max-examples`` and ``--seed``.
It prints; it never asserts. The two do different amounts of work, which the table shows
next to the times: our phase sends N valid and N invalid requests per operation (plus the
set-up objects) and checks each; plain ``schemathesis run`` also runs its examples, coverage
and stateful phases. ``--fuzzing-phase-only`` adds a CLI run restricted to ``--phases
fuzzing``, the closest like-for-like.

    .venv/bin/python benchmarks/fuzz_vs_schemathesis.py [--examples 25 100] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.config import DEFAULT_FUZZ_SEED
from harness.environment import embedded_environment
from harness.fuzz import run_fuzz
from harness.fuzz.runner import spec_path
from harness.results import RunResult
from zgw.jwt import bearer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def time_ours(config, examples: int, seed: int) -> tuple[float, str]:
    """Seconds of one fuzz phase, and what it did."""
    config.fuzz_examples = examples
    config.fuzz_seed = seed
    result = RunResult(target=config.target, started_at=_now())
    started = time.perf_counter()
    run_fuzz(config, result)
    elapsed = time.perf_counter() - started
    requests = sum(sum(c.values()) for c in result.observed_statuses.values())
    failed = sum(1 for c in result.cases if c.failed_checks())
    return elapsed, f"{len(result.cases)} operations, {requests} requests, {failed} failed"


def time_cli(config, examples: int, seed: int, extra: list[str]) -> tuple[float, str]:
    """Seconds of one ``schemathesis run`` (in an empty directory: no config file found)."""
    command = [
        str(SCHEMATHESIS),
        "run",
        str(spec_path(config).resolve()),
        "--url",
        config.target,
        "-H",
        f"Authorization: {bearer(config.client_id, config.secret)}",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--no-color",
        *extra,
    ]
    with tempfile.TemporaryDirectory() as empty:
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=empty,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
        elapsed = time.perf_counter() - started
    lines = [line.strip() for line in done.stdout.splitlines()]
    tail = "no summary"
    if "Test cases:" in lines:
        tail = lines[lines.index("Test cases:") + 1]
    missing = re.search(r"Missing test data: (\d+) operations", done.stdout)
    if missing:
        tail += f"; {missing.group(1)} operations only ever got 404"
    return elapsed, f"exit {done.returncode}; {tail}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--seed", type=int, default=DEFAULT_FUZZ_SEED)
    parser.add_argument(
        "--fuzzing-phase-only",
        action="store_true",
        help="also time `schemathesis run --phases fuzzing`",
    )
    args = parser.parse_args(argv)

    print(f"schemathesis CLI: {SCHEMATHESIS}; seed {args.seed}; server: embedded reference KIC")
    print(f"{'N':>5}  {'runner':<36} {'wall s':>8}  what it did")
    with embedded_environment() as config:
        for n in args.examples:
            rows = [
                ("harness fuzz phase (run_fuzz)", time_ours(config, n, args.seed)),
                ("schemathesis run (defaults)", time_cli(config, n, args.seed, [])),
            ]
            if args.fuzzing_phase_only:
                rows.append(
                    (
                        "schemathesis run --phases fuzzing",
                        time_cli(config, n, args.seed, ["--phases", "fuzzing"]),
                    )
                )
            for label, (seconds, what) in rows:
                print(f"{n:>5}  {label:<36} {seconds:>8.1f}  {what}", flush=True)


if __name__ == "__main__":
    main()
