"""``kic-conformance``: the command line (run, demo, list, validate).

Every option of ``run`` and ``demo`` can also come from an environment variable or a config
file (:mod:`harness.settings`: command line > ``KIC_CONFORMANCE_*`` > ``kic-conformance.toml``
> default). Exit status: see :data:`EXIT_STATUS` (0 CONFORMANT, 1 NOT CONFORMANT, 2 COULD NOT
RUN, 3 NO FAILURES but incomplete, 130 INTERRUPTED, 143 INTERRUPTED by SIGTERM); ``validate``
exits 1 on lint problems. SIGTERM during a run ends it like Ctrl-C: the reports of what finished
are written (:func:`sigterm_ends_the_run`).
Bad input gives a one-line message on stderr naming the problem, never a traceback; report
paths are checked before anything runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.config import DEFAULT_DRC_CLIENT, DRC_CLIENT_VARIABLE, RunConfig, Selection
from harness.report import html as html_report
from harness.report import json_report, junit, terminal
from harness.results import (
    COMPLETE_FUZZ_EXAMPLES,
    TERMINATED_EXIT_CODE,
    VERDICT_EXIT_CODES,
    CaseResult,
    RunResult,
)
from harness.scenarios import ScenarioError, lint, load_library
from harness.settings import (
    CONFIG_ENV,
    CONFIG_FILE,
    SettingsError,
    add_arguments,
    pair_problem,
    require,
    resolve,
    second_drc_problem,
)
from harness.spec import SpecError, load_spec

EXIT_STATUS = f"""\
exit status:
  0    CONFORMANT: no failures in a complete run (the whole built-in library and contract,
       nothing skipped, no selection, a strict mock DRC that checks tokens, a narrow client,
       fuzzing with at least {COMPLETE_FUZZ_EXAMPLES} examples per operation, TLS
       certificates checked: no --insecure)
  1    NOT CONFORMANT: a must-level check failed or a case could not be run
  2    COULD NOT RUN: bad options, a failed pre-flight check, an empty selection
  3    NO FAILURES (incomplete: <reasons>): no failures, but not a complete run
  130  INTERRUPTED: Ctrl-C (SIGINT); the reports of what finished are written, marked
       interrupted
  143  INTERRUPTED by SIGTERM (a cancelled CI job, docker stop): as 130, marked terminated

Every option can also be set by the environment variable named in its help, or as a key of
a config file (--config FILE, or {CONFIG_ENV}, or ./{CONFIG_FILE}), e.g.
  target = "https://kic.example.nl/api/v1"
  secret = "${{KIC_SECRET}}"
The command line wins over the environment, the environment over the file.
"""


class UsageError(Exception):
    """Bad command-line input; printed as one line on stderr, exit status 2."""


def version() -> str:
    """The installed distribution's version."""
    try:
        return metadata.version("kic-conformance")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"read options from this TOML file (default ./{CONFIG_FILE} when present) "
        f"[env {CONFIG_ENV}]",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kic-conformance",
        description="Conformance suite for the Klantinteracties API (KIC) 1.0.0-rc1.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in (
        ("run", "test your KIC"),
        ("demo", "run the suite against the built-in reference KIC and two mock DRCs"),
        ("list", "list the scenarios"),
        ("validate", "lint scenario files"),
    ):
        sub = commands.add_parser(
            name,
            help=summary,
            description=f"{summary[0].upper()}{summary[1:]}.",
            epilog=EXIT_STATUS if name in ("run", "demo") else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == "validate":
            sub.add_argument(
                "paths", nargs="*", type=Path, help="files or folders (default: the library)"
            )
        add_arguments(sub, name)
        _add_config(sub)
    return parser


def _selection(opts: argparse.Namespace) -> Selection:
    return Selection(
        tags=opts.tag,
        ids=opts.id,
        operations=opts.operation,
        exclude_tags=opts.exclude_tag,
        exclude_ids=opts.exclude_id,
    )


def _apply_common(config: RunConfig, opts: argparse.Namespace) -> RunConfig:
    config.selection = _selection(opts)
    config.scenario_paths = opts.scenarios or None
    config.spec_path = opts.spec
    config.timeout = opts.timeout
    config.workers = max(1, opts.workers)
    config.fuzz_examples = 0 if opts.no_fuzz else opts.fuzz_examples
    config.fuzz_seed = opts.fuzz_seed
    config.max_failures = opts.max_failures
    return config


def report_path_problem(path: Path) -> str | None:
    """Why a report cannot be written to ``path`` (checked before the run), or None."""
    if path.is_dir():
        return "is a folder"
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "is not writable"
    return None


def _check_reports(opts: argparse.Namespace) -> None:
    for option in ("junit", "json", "html"):
        path = getattr(opts, option)
        problem = report_path_problem(path) if path is not None else None
        if problem:
            raise UsageError(f"--{option} {path}: {problem}")


# -- progress -------------------------------------------------------------------------------


class LineProgress:
    """Progress for logs (stderr not a terminal): a line every ``step`` finished scenarios
    with the running counts, and one per fuzzed operation."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.counts: Counter[str] = Counter()
        self.step = 1

    def __call__(self, phase: str, case: CaseResult | None, done: int, total: int) -> None:
        if case is None:
            self.counts = Counter()
            self.step = max(1, min(25, total // 10))
            what = "scenarios" if phase == "scenarios" else "operations to fuzz"
            self._line(f"running {total} {what}")
            return
        self.counts[case.outcome.value] += 1
        if phase == "fuzz":
            self._line(f"fuzz {done}/{total} {case.id.removeprefix('fuzz:')}: {case.outcome.value}")
        elif done % self.step == 0 or done == total:
            counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts.items()))
            self._line(f"scenarios {done}/{total}: {counts}")

    def _line(self, text: str) -> None:
        print(f"kic-conformance: {text}", file=self.stream, flush=True)


class LiveProgress:
    """Progress on a terminal: a live bar per phase, the current one with a running clock (the
    scenario bar stops when the fuzz phase starts its own)."""

    COLUMNS = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )

    def __init__(self, console: Console) -> None:
        self.bar = Progress(*self.COLUMNS, console=console, transient=True)
        self.tasks: dict[str, Any] = {}

    def __call__(self, phase: str, case: CaseResult | None, done: int, total: int) -> None:
        if phase not in self.tasks:
            for other in self.tasks.values():
                self.bar.stop_task(other)
            label = "scenarios" if phase == "scenarios" else "fuzzing"
            self.tasks[phase] = self.bar.add_task(label, total=total, last="")
        last = f"{case.id}: {case.outcome.value}" if case else ""
        self.bar.update(self.tasks[phase], completed=done, total=total, last=last)


@contextlib.contextmanager
def progress_for(stream: IO[str]) -> Iterator[Any]:
    """Live bars when ``stream`` is a terminal, lines otherwise (CI logs)."""
    if stream.isatty():
        live = LiveProgress(Console(file=stream))
        with live.bar:
            yield live
    else:
        yield LineProgress(stream)


# -- running --------------------------------------------------------------------------------


class _RunGuard:
    """Whether the run is still going (SIGTERM then ends it) or its reports are being written."""

    running = True


@contextlib.contextmanager
def sigterm_ends_the_run() -> Iterator[_RunGuard]:
    """SIGTERM (a cancelled CI job, ``docker stop``) ends a running run like Ctrl-C: it raises
    :class:`harness.run.Terminated` in the main thread, so the cases that finished are
    reported and the command exits 143. Once the run is over (``guard.running`` False) a
    SIGTERM is ignored: the reports are being written, and the command ends right after."""
    from harness.run import Terminated

    guard = _RunGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard  # signal handlers belong to the main thread (a test calling main())
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        if guard.running:
            guard.running = False
            raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGTERM, previous)


def _execute(config: RunConfig, opts: argparse.Namespace, out: Console, err: Console) -> int:
    from harness.run import run

    with sigterm_ends_the_run() as guard:
        with progress_for(sys.stderr) as progress:
            result = run(config, progress=progress)
        guard.running = False
        return _report(result, opts, out, err)


def _report(result: RunResult, opts: argparse.Namespace, out: Console, err: Console) -> int:
    if result.aborted:
        for line in result.aborted.splitlines():
            err.print(
                f"kic-conformance {opts.command}: {line}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        out.print(terminal.verdict_line(result), highlight=False, soft_wrap=True)
    else:
        terminal.render(result, out)
    code = result.exit_code
    for option, writer in (
        ("junit", junit.write),
        ("json", json_report.write),
        ("html", html_report.write),
    ):
        path = getattr(opts, option, None)
        if path is None:
            continue
        try:
            writer(result, path)
            out.print(f"{option} report: {path}", highlight=False)
        except OSError as exc:
            err.print(
                f"kic-conformance: cannot write the {option} report {path}: {exc.strerror}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            code = 2
    return code


def _pair(opts: argparse.Namespace) -> tuple[str, str] | None:
    problem = pair_problem(vars(opts), "narrow-client-id", "narrow-secret")
    if problem:
        raise UsageError(problem)
    return (opts.narrow_client_id, opts.narrow_secret) if opts.narrow_client_id else None


def _check_tls(opts: argparse.Namespace) -> None:
    if opts.tls_ca_bundle is not None and opts.insecure:
        raise UsageError("give either --tls-ca-bundle or --insecure, not both")
    if opts.tls_ca_bundle is not None and not Path(opts.tls_ca_bundle).is_file():
        raise UsageError(f"--tls-ca-bundle {opts.tls_ca_bundle}: no such file")


def _check_drc(opts: argparse.Namespace) -> None:
    """The DRC options fit together (a DRC URL that names one of its APIs is the
    pre-flight's: :func:`harness.run.check_before_run`)."""
    if opts.drc_url and (opts.drc_host or opts.drc_port is not None):
        raise UsageError("give either --drc-url or --drc-host/--drc-port, not both")
    if (opts.drc_host is None) != (opts.drc_port is None):
        raise UsageError("--drc-host and --drc-port go together")
    problem = second_drc_problem(vars(opts))
    if problem:
        raise UsageError(problem)


def _cmd_run(opts: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        require(vars(opts), ("target", "client-id", "secret"))
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    narrow = _pair(opts)
    _check_drc(opts)
    _check_tls(opts)
    _check_reports(opts)
    with contextlib.ExitStack() as stack:
        drc_url, second_drc_url = opts.drc_url, opts.second_drc_url
        if opts.drc_host is not None:
            drc_url = _serve_drc(opts, out, stack)
        if opts.second_drc_port is not None:
            second_drc_url = _serve_drc(opts, out, stack, second=True)
        config = RunConfig(
            target=opts.target,
            client_id=opts.client_id,
            secret=opts.secret,
            narrow_client=narrow,
            drc_url=drc_url,
            second_drc_url=second_drc_url,
            embedded_drc=_drc_options(opts) if opts.drc_host is not None else None,
            drc_callback_client=opts.drc_callback_client,
            tls_ca_bundle=opts.tls_ca_bundle,
            tls_insecure=opts.insecure,
            wait_for_target=opts.wait_for_target,
        )
        return _execute(_apply_common(config, opts), opts, out, err)


def _drc_options(opts: argparse.Namespace) -> list[str]:
    """The options that start the same mock DRC again (for reproduce lines; a DRC client
    other than the default read from its environment variable, no secrets)."""
    options = [f"--drc-host {opts.drc_host} --drc-port {opts.drc_port}"]
    if opts.drc_public_url:
        options.append(f"--drc-public-url {opts.drc_public_url}")
    if opts.second_drc_port is not None:
        options.append(f"--second-drc-port {opts.second_drc_port}")
    if opts.second_drc_public_url:
        options.append(f"--second-drc-public-url {opts.second_drc_public_url}")
    if opts.second_drc_url:
        options.append(f"--second-drc-url {opts.second_drc_url}")
    options += [
        f"--{name}"
        for name in ("drc-lenient", "drc-accept-any-token")
        if getattr(opts, name.replace("-", "_"))
    ]
    if opts.drc_client is not None and tuple(opts.drc_client) != DEFAULT_DRC_CLIENT:
        options.append(f'--drc-client "${DRC_CLIENT_VARIABLE}"')
    return options


def _serve_drc(
    opts: argparse.Namespace, out: Console, stack: contextlib.ExitStack, *, second: bool = False
) -> str:
    """Start the mock DRC of ``--drc-host/--drc-port`` for the run (``second``: the one of
    ``--second-drc-port``, set up like the first); its URL for the harness."""
    from harness.drc_control import documents_path
    from harness.environment import MockDrcOptions, served_mock_drc

    options = MockDrcOptions(
        host=opts.drc_host,
        port=opts.second_drc_port if second else opts.drc_port,
        client=opts.drc_client,
        callback_client=opts.drc_callback_client,
        accept_any_token=opts.drc_accept_any_token,
        strict=not opts.drc_lenient,
        public_url=opts.second_drc_public_url if second else opts.drc_public_url,
    )
    which = "second mock DRC" if second else "mock DRC"
    try:
        drc = stack.enter_context(served_mock_drc(options))
    except OSError as exc:
        raise UsageError(
            f"cannot start the {which} on {options.host}:{options.port}: {exc.strerror}"
        ) from None
    out.print(
        f"{which} listening on {drc.url}; documents under {drc.public_url}{documents_path('')}",
        highlight=False,
    )
    return drc.local_url


def _cmd_demo(opts: argparse.Namespace, out: Console, err: Console) -> int:
    from harness.environment import checked_defects, embedded_environment

    try:
        checked_defects(opts.defect)
    except ImportError as exc:
        raise UsageError(f"the reference KIC is not available: {exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_reports(opts)
    with embedded_environment(defects=frozenset(opts.defect)) as config:
        out.print(
            f"reference KIC at {config.target}, mock DRCs at {config.drc_url} and "
            f"{config.second_drc_url}"
            + (f", defects: {', '.join(opts.defect)}" if opts.defect else ""),
            highlight=False,
            soft_wrap=True,  # one line, however long: the causes of failure follow at once
        )
        _apply_common(config, opts)
        return _execute(config, opts, out, err)


def _cmd_list(opts: argparse.Namespace, out: Console, err: Console) -> int:
    spec = load_spec(opts.spec)
    scenarios = load_library([str(p) for p in opts.scenarios] if opts.scenarios else None, spec)
    selection = _selection(opts)
    chosen = [s for s in scenarios if selection.selects(s)]
    for scenario in chosen:
        tags = ",".join(scenario.tags)
        print(f"{scenario.id}\t{scenario.rule}\t{scenario.level.value}\t{tags}", file=out.file)
    out.print(f"{len(chosen)} of {len(scenarios)} scenarios", style="dim", highlight=False)
    return 0


def _cmd_validate(opts: argparse.Namespace, out: Console, err: Console) -> int:
    spec = load_spec(opts.spec)
    scenarios, problems = lint([str(p) for p in opts.paths] or None, spec)
    for problem in problems:
        out.print(str(problem), highlight=False, soft_wrap=True, markup=False)
    verdict = f"{len(scenarios)} scenario(s) valid, {len(problems)} problem(s)"
    out.print(verdict, style="red" if problems else "green", highlight=False)
    return 1 if problems else 0


COMMANDS = {"run": _cmd_run, "demo": _cmd_demo, "list": _cmd_list, "validate": _cmd_validate}


def options(args: argparse.Namespace) -> argparse.Namespace:
    """The parsed command line completed from the environment, the config file and the
    defaults (:func:`harness.settings.resolve`)."""
    given = vars(args)
    values = resolve(given, args.command, config_path=args.config)
    return argparse.Namespace(**{**given, **values})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kic-conformance``; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    out = Console(width=None if sys.stdout.isatty() else 120)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
    try:
        return COMMANDS[args.command](options(args), out, err)
    except (UsageError, SettingsError, SpecError, ScenarioError) as exc:
        err.print(
            f"kic-conformance {args.command}: {exc}", markup=False, highlight=False, soft_wrap=True
        )
        return 2
    except KeyboardInterrupt as exc:  # before or after the run itself (it keeps its results)
        from harness.run import Terminated

        terminated = isinstance(exc, Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        err.print(f"kic-conformance {args.command}: {what}", highlight=False)
        return TERMINATED_EXIT_CODE if terminated else VERDICT_EXIT_CODES["INTERRUPTED"]


if __name__ == "__main__":
    sys.exit(main())
