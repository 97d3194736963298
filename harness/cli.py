"""``kic-conformance``: the command line (run, demo, list, validate).

Exit status: 0 conformant (or no problems), 1 not conformant (or lint problems), 2 could not run
or bad usage. Bad input gives a one-line message naming the problem, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.config import DEFAULT_FUZZ_SEED, RunConfig, Selection
from harness.report import html as html_report
from harness.report import json_report, junit, terminal
from harness.results import CaseResult, RunResult
from harness.scenarios import ScenarioError, lint, load_library
from harness.spec import SpecError, load_spec


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit status 2."""


def _credentials(value: str) -> tuple[str, str]:
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError(f"expected CLIENT_ID:SECRET, got {value!r}")
    return client_id, secret


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return number


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return int(value)


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or "//" not in value[7:9] + value:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL, got {value!r}")
    return value


def _add_selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("selection")
    group.add_argument(
        "--scenarios",
        action="append",
        type=Path,
        metavar="DIR",
        help="scenario folder or file (repeatable; default: the built-in library)",
    )
    group.add_argument(
        "--tag", action="append", default=[], help="only scenarios with this tag or rule"
    )
    group.add_argument("--id", action="append", default=[], help="only this scenario id")
    group.add_argument(
        "--operation", action="append", default=[], help="only scenarios calling this operationId"
    )
    group.add_argument("--exclude-tag", action="append", default=[], help="leave out this tag")
    group.add_argument("--exclude-id", action="append", default=[], help="leave out this id")


def _add_reports(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reports and fuzzing")
    group.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    group.add_argument("--json", type=Path, metavar="FILE", help="write a JSON report")
    group.add_argument(
        "--html", type=Path, metavar="FILE", help="write a self-contained HTML report"
    )
    group.add_argument(
        "--fuzz-examples",
        type=_count,
        default=25,
        metavar="N",
        help="generated requests per operation (0: no fuzzing; default 25)",
    )
    group.add_argument(
        "--fuzz-seed",
        type=int,
        default=DEFAULT_FUZZ_SEED,
        metavar="S",
        help=f"fuzzing seed (default {DEFAULT_FUZZ_SEED})",
    )
    group.add_argument("--no-fuzz", action="store_true", help="do not fuzz")
    group.add_argument(
        "--timeout",
        type=_positive,
        default=10.0,
        metavar="S",
        help="seconds per request (default 10)",
    )
    group.add_argument(
        "--workers",
        type=_count,
        default=4,
        metavar="N",
        help="scenarios run at the same time (default 4)",
    )
    group.add_argument("--spec", type=Path, metavar="FILE", help="OpenAPI file (default: built-in)")


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="test your KIC", description="Test a KIC.")
    run.add_argument(
        "--target",
        required=True,
        type=_url,
        help="the KIC's API root, e.g. https://kic.example.nl/api/v1",
    )
    run.add_argument("--client-id", required=True, help="a client with all four klanten scopes")
    run.add_argument("--secret", required=True, help="that client's JWT secret")
    run.add_argument("--narrow-client-id", help="a client with only klanten.lezen")
    run.add_argument("--narrow-secret", help="that client's JWT secret")
    _add_drc(run)
    _add_selection(run)
    _add_reports(run)


def _add_drc(parser: argparse.ArgumentParser) -> None:
    drc = parser.add_argument_group("mock DRC (kic-001 scenarios)")
    drc.add_argument("--drc-url", type=_url, help="base URL of a mock DRC started apart")
    drc.add_argument("--drc-host", help="start the mock DRC in-process, listening on this host")
    drc.add_argument("--drc-port", type=int, help="... and this port (0: any free port)")
    drc.add_argument(
        "--drc-public-url",
        type=_url,
        help="base URL your KIC uses to reach that DRC (default http://HOST:PORT)",
    )
    drc.add_argument(
        "--drc-client",
        type=_credentials,
        default=("kic", "kic-secret"),
        metavar="ID:SECRET",
        help="credentials your KIC uses at the DRC",
    )
    drc.add_argument(
        "--drc-callback-client",
        type=_credentials,
        default=("mock-drc", "mock-drc-secret"),
        metavar="ID:SECRET",
        help="credentials the DRC uses to call your KIC back (needs klanten.lezen)",
    )
    drc.add_argument(
        "--drc-accept-any-token",
        action="store_true",
        help="the DRC accepts any token from your KIC",
    )
    drc.add_argument(
        "--drc-lenient",
        action="store_true",
        help="the DRC does not call your KIC back (no strict kic-001 ordering)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kic-conformance",
        description="Conformance suite for the Klantinteracties API (KIC) 1.0.0-rc1.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)

    demo = commands.add_parser("demo", help="run the suite against the built-in reference KIC")
    demo.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="switch the reference KIC into a deliberately broken variant",
    )
    _add_selection(demo)
    _add_reports(demo)

    listing = commands.add_parser("list", help="list the scenarios")
    _add_selection(listing)
    listing.add_argument("--spec", type=Path, metavar="FILE", help="OpenAPI file")

    validate = commands.add_parser("validate", help="lint scenario files")
    validate.add_argument("paths", nargs="*", type=Path, help="files or folders (default: library)")
    validate.add_argument("--spec", type=Path, metavar="FILE", help="OpenAPI file")
    return parser


def _selection(args: argparse.Namespace) -> Selection:
    return Selection(
        tags=args.tag,
        ids=args.id,
        operations=args.operation,
        exclude_tags=args.exclude_tag,
        exclude_ids=args.exclude_id,
    )


def _apply_common(config: RunConfig, args: argparse.Namespace) -> RunConfig:
    config.selection = _selection(args)
    config.scenario_paths = args.scenarios
    config.spec_path = args.spec
    config.timeout = args.timeout
    config.workers = max(1, args.workers)
    config.fuzz_examples = 0 if args.no_fuzz else args.fuzz_examples
    config.fuzz_seed = args.fuzz_seed
    return config


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("scenarios", total=None, last="")

        def update(case: CaseResult | None, done: int, total: int) -> None:
            last = f"{case.id}: {case.outcome.value}" if case else ""
            bar.update(task, completed=done, total=total, last=last)

        yield update


def _execute(config: RunConfig, args: argparse.Namespace, out: Console) -> int:
    from harness.run import run

    with _progress(sys.stderr.isatty()) as progress:
        result = run(config, progress=progress)
    _report(result, args, out)
    return result.exit_code


def _report(result: RunResult, args: argparse.Namespace, out: Console) -> None:
    terminal.render(result, out)
    for option, writer in (
        ("junit", junit.write),
        ("json", json_report.write),
        ("html", html_report.write),
    ):
        path = getattr(args, option, None)
        if path is None:
            continue
        try:
            writer(result, path)
            out.print(f"{option} report: {path}", highlight=False)
        except OSError as exc:
            out.print(f"[red]cannot write the {option} report {path}: {exc.strerror}[/]")


def _cmd_run(args: argparse.Namespace, out: Console) -> int:
    if bool(args.narrow_client_id) != bool(args.narrow_secret):
        raise UsageError("give both --narrow-client-id and --narrow-secret, or neither")
    if args.drc_url and (args.drc_host or args.drc_port is not None):
        raise UsageError("give either --drc-url or --drc-host/--drc-port, not both")
    if (args.drc_host is None) != (args.drc_port is None):
        raise UsageError("--drc-host and --drc-port go together")
    narrow = (args.narrow_client_id, args.narrow_secret) if args.narrow_client_id else None
    with contextlib.ExitStack() as stack:
        drc_url = args.drc_url
        if args.drc_host is not None:
            drc_url = _serve_drc(args, out, stack)
        config = RunConfig(
            target=args.target,
            client_id=args.client_id,
            secret=args.secret,
            narrow_client=narrow,
            drc_url=drc_url,
            embedded_drc=_drc_options(args) if args.drc_host is not None else None,
        )
        return _execute(_apply_common(config, args), args, out)


def _drc_options(args: argparse.Namespace) -> list[str]:
    """The options that start the same mock DRC again (for reproduce lines; no secrets)."""
    options = [f"--drc-host {args.drc_host} --drc-port {args.drc_port}"]
    if args.drc_public_url:
        options.append(f"--drc-public-url {args.drc_public_url}")
    options += [
        f"--{name}"
        for name in ("drc-lenient", "drc-accept-any-token")
        if getattr(args, name.replace("-", "_"))
    ]
    return options


def _serve_drc(args: argparse.Namespace, out: Console, stack: contextlib.ExitStack) -> str:
    """Start the mock DRC of ``--drc-host/--drc-port`` for the run; its URL for the harness."""
    from harness.drc_control import documents_path
    from harness.environment import MockDrcOptions, served_mock_drc

    options = MockDrcOptions(
        host=args.drc_host,
        port=args.drc_port,
        client=args.drc_client,
        callback_client=args.drc_callback_client,
        accept_any_token=args.drc_accept_any_token,
        strict=not args.drc_lenient,
        public_url=args.drc_public_url,
    )
    try:
        drc = stack.enter_context(served_mock_drc(options))
    except OSError as exc:
        raise UsageError(
            f"cannot start the mock DRC on {args.drc_host}:{args.drc_port}: {exc.strerror}"
        ) from None
    out.print(
        f"mock DRC listening on {drc.url}; documents under {drc.public_url}{documents_path('')}",
        highlight=False,
    )
    return drc.local_url


def _cmd_demo(args: argparse.Namespace, out: Console) -> int:
    from harness.environment import embedded_environment, known_defects

    try:
        defects = known_defects()
    except ImportError as exc:
        raise UsageError(f"the reference KIC is not available: {exc}") from None
    unknown = sorted(set(args.defect) - defects)
    if unknown:
        raise UsageError(
            f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(sorted(defects))}"
        )
    with embedded_environment(defects=frozenset(args.defect)) as config:
        out.print(
            f"reference KIC at {config.target}, mock DRC at {config.drc_url}"
            + (f", defects: {', '.join(args.defect)}" if args.defect else ""),
            highlight=False,
        )
        _apply_common(config, args)
        return _execute(config, args, out)


def _cmd_list(args: argparse.Namespace, out: Console) -> int:
    spec = load_spec(args.spec)
    scenarios = load_library([str(p) for p in args.scenarios] if args.scenarios else None, spec)
    selection = _selection(args)
    chosen = [s for s in scenarios if selection.selects(s)]
    for scenario in chosen:
        tags = ",".join(scenario.tags)
        print(f"{scenario.id}\t{scenario.rule}\t{scenario.level.value}\t{tags}", file=out.file)
    out.print(f"{len(chosen)} of {len(scenarios)} scenarios", style="dim", highlight=False)
    return 0


def _cmd_validate(args: argparse.Namespace, out: Console) -> int:
    spec = load_spec(args.spec)
    scenarios, problems = lint([str(p) for p in args.paths] or None, spec)
    for problem in problems:
        out.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    verdict = f"{len(scenarios)} scenario(s) valid, {len(problems)} problem(s)"
    out.print(verdict, style="red" if problems else "green", highlight=False)
    return 1 if problems else 0


COMMANDS = {"run": _cmd_run, "demo": _cmd_demo, "list": _cmd_list, "validate": _cmd_validate}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kic-conformance``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    out = Console(width=None if sys.stdout.isatty() else 120)
    try:
        return COMMANDS[args.command](args, out)
    except (UsageError, SpecError, ScenarioError) as exc:
        Console(stderr=True).print(
            f"kic-conformance {args.command}: {exc}", markup=False, highlight=False, soft_wrap=True
        )
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        return 2


if __name__ == "__main__":
    sys.exit(main())
