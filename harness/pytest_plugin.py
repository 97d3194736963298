"""pytest plugin: the conformance scenarios as pytest items (``pytest --kic-url ...``).

Registered as the ``kic_conformance`` pytest11 entry point. It does nothing unless one of
``--kic-url URL``, ``--kic-demo``, ``--kic`` (every setting from ``KIC_CONFORMANCE_*`` /
``kic-conformance.toml``) or ``--kic-config FILE`` is given. The options are the CLI's
(:mod:`harness.settings`) named ``--kic-<option>`` (``--kic-secret``, ``--kic-drc-host``,
``--kic-timeout``, ...; the target is ``--kic-url``), with the same environment variables
and config file; only the reports, ``--workers`` and ``--max-failures`` are pytest's own
(``--junitxml``, ``-n``, ``--maxfail``). The fuzz items are off unless
``--kic-fuzz-examples N`` (or the environment or file) asks for them.

Every selected scenario becomes an item ``kic-conformance::<scenario id>`` marked per tag, rule
(``kic_001``, ``oas_klant_create``) and level (``must``/``should``/``reference``), so ``-k`` and
``-m`` select. A must-failure fails the item; should-failures and reference differences become
warnings, and so do cleanup problems (failed ``finally:`` steps) of an item that passes or is
skipped. The run is the CLI's (:mod:`harness.run`):

- missing or bad options are one :class:`pytest.UsageError` (exit status 4);
- the pre-flight (:func:`harness.run.check_before_run`) runs once, in the main process before
  any item, and a problem is one UsageError naming the ``--kic-*`` option to fix;
- each item runs through :func:`harness.runner.run_scenario` inside its
  :meth:`~harness.scheduling.DrcTurns.turn`, in :func:`~harness.scheduling.in_run_order` (the
  run-alone and call-back rules hold between xdist workers that share a DRC too), failed
  call-back scenarios explained by :class:`harness.run.CallbackDoctor`; fuzz items through
  :func:`harness.run.fuzz_phase`;
- the session ends with the CLI's verdict line (:func:`harness.report.terminal.verdict_line`);
  a session whose verdict is ``NO FAILURES (incomplete: ...)`` fails (exit status 1, pytest's
  "tests failed", with a line saying why), unless ``--kic-allow-incomplete`` is given: a CI job
  on pytest must not go green on a run that left checks out (the CLI exits 3 there).

Under xdist every worker in ``--kic-demo`` mode starts its own embedded environment; with
``--kic-url`` all share the target, and a mock DRC of ``--kic-drc-host`` (and the second one
of ``--kic-second-drc-port``) is started once by the main process and handed to the workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jwt.warnings import InsecureKeyLengthWarning

from harness.config import DEFAULT_DRC_CLIENT, DRC_CLIENT_VARIABLE, RunConfig, Selection
from harness.report.text import case_text, cleanup_text
from harness.results import CaseResult, CheckResult, Level, Outcome, RunMode, RunResult
from harness.scenarios import Scenario, ScenarioError
from harness.scheduling import DrcTurns, in_run_order
from harness.settings import (
    BY_NAME,
    CONFIG_ENV,
    SettingsError,
    argparse_type,
    options_for,
    pair_problem,
    require,
    resolve,
    second_drc_problem,
)
from harness.spec import SpecError

if TYPE_CHECKING:
    from harness.run import CallbackDoctor
    from harness.runner import RunContext

SUITE_NODE = "kic-conformance"
PREFIX = "--kic-"
_STATE = pytest.StashKey["_SessionState"]()
#: The plugin's defaults where they differ from the CLI's: no fuzz items unless asked for.
PLUGIN_DEFAULTS = {"fuzz_examples": 0}
#: What the main process hands to xdist workers: the URLs of the mock DRCs it started.
WORKER_DRC_URL = "kic_conformance_drc_url"
WORKER_SECOND_DRC_URL = "kic_conformance_second_drc_url"


class KicConformanceWarning(UserWarning):
    """A should-level failure or a difference from the reference implementation."""


class KicCleanupWarning(UserWarning):
    """A ``finally:`` step failed: not a non-conformance, but the KIC may have kept test data."""


class ScenarioFailed(Exception):
    """A scenario came out FAILED or ERROR; carries the case for the failure report."""

    def __init__(self, case: CaseResult) -> None:
        super().__init__(case.id)
        self.case = case


def _pytest_dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kic-conformance", "KIC conformance scenarios")
    group.addoption(
        "--kic",
        action="store_true",
        help="run the conformance scenarios with the settings of the KIC_CONFORMANCE_* "
        "environment variables and kic-conformance.toml",
    )
    group.addoption(
        "--kic-demo",
        action="store_true",
        help="test the built-in reference KIC with an embedded mock DRC",
    )
    group.addoption(
        "--kic-allow-incomplete",
        action="store_true",
        help="let a session without failures pass although the run was incomplete (NO "
        "FAILURES (incomplete: ...)); by default such a session fails with exit status 1",
    )
    group.addoption(
        "--kic-config",
        metavar="FILE",
        help=f"read kic-conformance options from this TOML file [env {CONFIG_ENV}]",
    )
    for option in options_for("pytest"):
        flag = option.flag("pytest")
        help_text = f"{option.help} [env {option.env}]"
        if option.switch:
            group.addoption(flag, action="store_true", default=None, help=help_text)
        else:
            group.addoption(
                flag,
                action="append" if option.many else "store",
                type=argparse_type(option),
                default=None,
                metavar=option.metavar or option.dest.upper(),
                help=help_text,
            )


def _active(config: pytest.Config) -> bool:
    return any(config.getoption(name) for name in ("kic", "kic_demo", "kic_config", "kic_url"))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def mark_names(scenario: Scenario) -> list[str]:
    """The pytest marks of a scenario: tags, rule and level as identifiers."""
    names = [*scenario.tags, scenario.rule, scenario.level.value]
    return list(dict.fromkeys(re.sub(r"\W", "_", n).strip("_").lower() for n in names if n))


def settings_of(config: pytest.Config) -> dict[str, Any]:
    """The plugin's options by dest, completed like the CLI's (:func:`resolve`); every problem
    is one :class:`pytest.UsageError`."""
    given = {
        option.dest: config.getoption(_pytest_dest(option.flag("pytest")))
        for option in options_for("pytest")
    }
    try:
        values = resolve(given, "pytest", config_path=config.getoption("kic_config"))
        for dest, default in PLUGIN_DEFAULTS.items():
            if given.get(dest) is None and values[dest] == _cli_default(dest):
                values[dest] = default
        if not config.getoption("kic_demo"):
            require(values, ("target", "client-id", "secret"), front_end="pytest")
    except SettingsError as exc:
        raise pytest.UsageError(f"kic-conformance: {exc}") from None
    problem = _combination_problem(values)
    if problem:
        raise pytest.UsageError(f"kic-conformance: {problem}")
    return values


def _cli_default(dest: str) -> Any:
    return next(o.default for o in options_for("pytest") if o.dest == dest)


def _combination_problem(values: dict[str, Any]) -> str | None:
    problem = pair_problem(values, "narrow-client-id", "narrow-secret", "pytest")
    if problem:
        return problem
    if values["drc_url"] and (values["drc_host"] or values["drc_port"] is not None):
        return "give either --kic-drc-url or --kic-drc-host/--kic-drc-port, not both"
    if (values["drc_host"] is None) != (values["drc_port"] is None):
        return "--kic-drc-host and --kic-drc-port go together"
    problem = second_drc_problem(values, "pytest")
    if problem:
        return problem
    if values["tls_ca_bundle"] is not None and values["insecure"]:
        return "give either --kic-tls-ca-bundle or --kic-insecure, not both"
    if values["tls_ca_bundle"] is not None and not Path(values["tls_ca_bundle"]).is_file():
        return f"--kic-tls-ca-bundle {values['tls_ca_bundle']}: no such file"
    return None


def _apply(run_config: RunConfig, values: dict[str, Any]) -> RunConfig:
    """The settings every mode shares: selection, scenario files, limits, fuzzing, TLS."""
    run_config.selection = Selection(
        tags=values["tag"],
        ids=values["id"],
        operations=values["operation"],
        exclude_tags=values["exclude_tag"],
        exclude_ids=values["exclude_id"],
    )
    run_config.scenario_paths = values["scenarios"] or None
    run_config.spec_path = values["spec"]
    run_config.timeout = values["timeout"]
    run_config.fuzz_examples = 0 if values["no_fuzz"] else values["fuzz_examples"]
    run_config.fuzz_seed = values["fuzz_seed"]
    run_config.wait_for_target = values["wait_for_target"]
    run_config.option_prefix = PREFIX
    return run_config


def _drc_options(values: dict[str, Any]) -> list[str]:
    """The plugin options that start the same mock DRC again (for reproduce lines; the URL
    the session's DRC had is gone after the session; a DRC client other than the default read
    from its environment variable, no secrets)."""

    def flag(name: str) -> str:
        return BY_NAME[name].flag("pytest")

    options = [f"{flag('drc-host')} {values['drc_host']} {flag('drc-port')} {values['drc_port']}"]
    if values["drc_public_url"]:
        options.append(f"{flag('drc-public-url')} {values['drc_public_url']}")
    for name in ("second-drc-port", "second-drc-public-url", "second-drc-url"):
        value = values.get(name.replace("-", "_"))
        if value is not None:
            options.append(f"{flag(name)} {value}")
    options += [
        flag(name)
        for name in ("drc-lenient", "drc-accept-any-token")
        if values[name.replace("-", "_")]
    ]
    client = values.get("drc_client")
    if client is not None and tuple(client) != DEFAULT_DRC_CLIENT:
        options.append(f'{flag("drc-client")} "${DRC_CLIENT_VARIABLE}"')
    return options


class _SessionState:
    """The per-process settings, run configuration, runner context and DRC turns, the
    pre-flight's verdict of the set-up, and the outcomes the session's verdict is made of."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.values = settings_of(config)
        self.demo = bool(config.getoption("kic_demo"))
        self.stack = contextlib.ExitStack()
        self.context: RunContext | None = None
        self.doctor: CallbackDoctor | None = None
        self.turns = DrcTurns(None)
        self.drc_url: str | None = None
        self.second_drc_url: str | None = None
        self.mode: RunMode | None = None
        self.spec_version = ""

    def run_config(self) -> RunConfig:
        if self.demo:
            from harness.environment import embedded_environment

            embedded = self.stack.enter_context(embedded_environment(fuzz_examples=0))
            return _apply(embedded, self.values)
        values = self.values
        narrow = None
        if values["narrow_client_id"]:
            narrow = (values["narrow_client_id"], values["narrow_secret"])
        return _apply(
            RunConfig(
                target=values["target"],
                client_id=values["client_id"],
                secret=values["secret"],
                narrow_client=narrow,
                drc_url=self.drc_url or values["drc_url"],
                embedded_drc=_drc_options(values) if values["drc_host"] is not None else None,
                second_drc_url=self.second_drc_url or values["second_drc_url"],
                drc_callback_client=values["drc_callback_client"],
                tls_ca_bundle=values["tls_ca_bundle"],
                tls_insecure=bool(values["insecure"]),
            ),
            values,
        )

    def target(self) -> str:
        if self.context is not None:
            return self.context.config.target
        return str(self.values.get("target") or "")

    def start_drc(self) -> None:
        """Serve the mock DRC of ``--kic-drc-host/--kic-drc-port``, and the second one of
        ``--kic-second-drc-port`` (main process only)."""
        values = self.values
        if self.demo or values["drc_host"] is None:
            return
        self.drc_url = self._serve(values["drc_port"], values["drc_public_url"], "mock DRC")
        if values["second_drc_port"] is not None:
            self.second_drc_url = self._serve(
                values["second_drc_port"], values["second_drc_public_url"], "second mock DRC"
            )

    def _serve(self, port: int, public_url: str | None, which: str) -> str:
        from harness.environment import MockDrcOptions, served_mock_drc

        values = self.values
        options = MockDrcOptions(
            host=values["drc_host"],
            port=port,
            client=values["drc_client"],
            callback_client=values["drc_callback_client"],
            accept_any_token=bool(values["drc_accept_any_token"]),
            strict=not values["drc_lenient"],
            public_url=public_url,
        )
        try:
            return self.stack.enter_context(served_mock_drc(options)).local_url
        except OSError as exc:
            raise pytest.UsageError(
                f"kic-conformance: cannot start the {which} on {options.host}:{options.port}: "
                f"{exc.strerror}"
            ) from None

    def get(self) -> RunContext:
        """The context to run items with (made on first use)."""
        if self.context is None:
            from harness.run import CallbackDoctor
            from harness.runner import RunContext

            run_config = self.run_config()
            self.context = RunContext.create(run_config)
            self.stack.callback(self.context.close)
            self.turns = DrcTurns(run_config.drc_url)
            self.doctor = CallbackDoctor(self.context)
        return self.context

    def preflight(self) -> None:
        """The CLI's pre-flight, once per session; a problem is one UsageError."""
        from harness.run import check_before_run, run_mode

        context = self.get()
        self.spec_version = context.spec.version
        checked = check_before_run(context)
        self.mode = run_mode(context.config, checked.drc_settings, given=False, preflight=True)
        if checked.problem:
            lines = "\n".join(checked.problem.splitlines())
            raise pytest.UsageError(f"kic-conformance could not run:\n{lines}")

    def close(self) -> None:
        self.stack.close()


class SessionVerdict:
    """Registered as a plugin of the session (main process): collects each kic-conformance
    item's outcome (xdist sends the workers' reports here) and ends the session with the
    CLI's mode and verdict lines."""

    def __init__(self, state: _SessionState) -> None:
        self.state = state
        self.cases: dict[str, CaseResult] = {}
        #: Why the session was made to fail although no item did (None: it was not).
        self.failed_because: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.nodeid.startswith(SUITE_NODE + "::"):
            return
        name = report.nodeid.split("::", 1)[1]
        case = self.cases.setdefault(
            name, CaseResult(id=name, title=name, rule="", level=Level.MUST)
        )
        if report.skipped and report.when in ("setup", "call"):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            case.skip_reason = str(reason)
        elif report.failed and report.when == "call":
            case.checks.append(CheckResult("pytest item", False, Level.MUST, "failed"))
        elif report.failed:
            case.error = f"{report.when} failed"

    def result(self, config: pytest.Config, exitstatus: int) -> RunResult | None:
        """The session as a :class:`RunResult` (None when the pre-flight did not run)."""
        if self.state.mode is None:
            return None
        mode = dataclasses.replace(self.state.mode)
        chosen = [
            f"{flag} {value}"
            for flag, value in (("-k", config.option.keyword), ("-m", config.option.markexpr))
            if value
        ]
        if chosen:
            mode.selection = {**mode.selection, "pytest": chosen}
        result = RunResult(
            target=self.state.target(),
            started_at="",
            spec_version=self.state.spec_version,
            mode=mode,
            cases=list(self.cases.values()),
            interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
        )
        maxfail = config.getoption("maxfail")
        failures = sum(1 for c in result.cases if c.outcome is Outcome.ERROR)
        if maxfail and failures >= maxfail and not result.interrupted:
            result.stopped = f"stopped after {maxfail} failed items (--maxfail {maxfail})"
        return result

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """An incomplete run fails the session (exit status 1) unless the user accepts it:
        pytest would exit 0, and a CI job would pass on a run that checked less."""
        result = self.result(session.config, exitstatus)
        if result is None or result.verdict_state != "NO FAILURES":
            return
        if session.exitstatus != pytest.ExitCode.OK:
            return
        if session.config.getoption("kic_allow_incomplete"):
            return
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self.failed_because = (
            "kic-conformance: exit status 1: no item failed, but the run was incomplete "
            "(the reasons above); give --kic-allow-incomplete to let such a run pass"
        )

    def pytest_terminal_summary(
        self, terminalreporter: Any, exitstatus: int, config: pytest.Config
    ) -> None:
        from rich.text import Text

        from harness.report.terminal import verdict_line

        result = self.result(config, exitstatus)
        if result is None or result.mode is None:
            return
        terminalreporter.write_sep("-", "kic-conformance")
        terminalreporter.write_line(f"mode: {result.mode.describe()}")
        terminalreporter.write_line(Text.from_markup(verdict_line(result)).plain)
        if self.failed_because:
            terminalreporter.write_line(self.failed_because, red=True, bold=True)


class ScenarioItem(pytest.Item):
    """One scenario as a pytest test."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        for name in mark_names(scenario):
            self.add_marker(name)

    def runtest(self) -> None:
        from harness.runner import run_scenario

        state = self.config.stash[_STATE]
        context = state.get()
        with warnings.catch_warnings(), state.turns.turn(self.scenario):
            # ZGW secrets are often short; that is the operator's choice, not a finding.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            case = run_scenario(self.scenario, context)
        if state.doctor is not None:
            state.doctor.examine(self.scenario, case)
        _finish(case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return case_text(excinfo.value.case)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.scenario.file, max(0, self.scenario.line - 1), f"scenario {self.scenario.id}"


class FuzzItem(pytest.Item):
    """The fuzzer on one operation (``fuzz:<operationId>``), through ``harness.fuzz.run_fuzz``."""

    def __init__(self, *, operation_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.operation_id = operation_id
        for name in ("fuzz", f"oas_{operation_id}", "must"):
            self.add_marker(name)

    def runtest(self) -> None:
        from harness.run import fuzz_phase

        context = self.config.stash[_STATE].get()
        config = dataclasses.replace(
            context.config, selection=Selection(operations=[self.operation_id])
        )
        result = RunResult(target=config.target, started_at="")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            fuzz_phase(dataclasses.replace(context, config=config), result)
        bad = [c for c in result.cases if c.outcome.counts_against]
        if bad:
            pytest.fail("\n\n".join(case_text(c) for c in bad), pytrace=False)
        for case in result.cases:
            if case.outcome in (Outcome.WARNING, Outcome.DIFFERS):
                warnings.warn(KicConformanceWarning(case_text(case)), stacklevel=1)

    def reportinfo(self) -> tuple[str, int, str]:
        return "harness/fuzz", 0, f"fuzz {self.operation_id}"


def _finish(case: CaseResult) -> None:
    outcome = case.outcome
    # A failed, warned or differing case shows its cleanup problems in its own text already.
    if outcome in (Outcome.PASSED, Outcome.SKIPPED) and case.cleanup_problems():
        warnings.warn(KicCleanupWarning(cleanup_text(case)), stacklevel=1)
    if outcome is Outcome.SKIPPED:
        pytest.skip(case.skip_reason or "not applicable")
    if outcome.counts_against:  # failed, precondition failed, error
        raise ScenarioFailed(case)
    if outcome in (Outcome.WARNING, Outcome.DIFFERS):
        warnings.warn(KicConformanceWarning(case_text(case)), stacklevel=1)


class KicSuite(pytest.Collector):
    """The collector that turns the scenario library into items."""

    def collect(self) -> list[pytest.Item]:
        from harness.run import empty_selection, plan

        state = self.config.stash[_STATE]
        values = state.values
        # The settings as a run would use them; the target does not matter for planning.
        chosen = _apply(RunConfig(target="http://kic.invalid", client_id="", secret=""), values)
        try:
            planned = plan(
                spec_path=chosen.spec_path,
                scenario_paths=chosen.scenario_paths,
                selection=chosen.selection,
            )
        except (ScenarioError, SpecError) as exc:
            raise pytest.UsageError(f"kic-conformance scenarios:\n{exc}") from None
        state.spec_version = planned.spec.version
        problem = empty_selection(planned, chosen)
        if problem:
            raise pytest.UsageError(f"kic-conformance: {problem}")
        items: list[pytest.Item] = []
        for scenario in in_run_order(planned.scenarios):
            for name in mark_names(scenario):
                self.config.addinivalue_line("markers", f"{name}: kic-conformance scenarios")
            items.append(ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario))
        if chosen.fuzz_examples > 0:
            self.config.addinivalue_line("markers", "fuzz: kic-conformance fuzzing items")
            for op_id in planned.spec.operations:
                if chosen.selection.operations and op_id not in chosen.selection.operations:
                    continue
                self.config.addinivalue_line("markers", f"oas_{op_id}: kic-conformance scenarios")
                items.append(FuzzItem.from_parent(self, name=f"fuzz:{op_id}", operation_id=op_id))
        return items


def pytest_configure(config: pytest.Config) -> None:
    if _active(config):
        config.stash[_STATE] = _SessionState(config)
        for level in ("must", "should", "reference"):
            config.addinivalue_line("markers", f"{level}: kic-conformance requirement level")
        if _is_worker(config):
            config.stash[_STATE].drc_url = config.workerinput.get(WORKER_DRC_URL)
            config.stash[_STATE].second_drc_url = config.workerinput.get(WORKER_SECOND_DRC_URL)
        else:
            config.pluginmanager.register(SessionVerdict(config.stash[_STATE]), "kic-verdict")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """In the main process: start the mock DRC of --kic-drc-host and run the pre-flight."""
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or _is_worker(config):
        return
    state.start_drc()
    if not config.getoption("collectonly"):
        state.preflight()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the mock DRCs the main process started to each worker."""
    state = node.config.stash.get(_STATE, None)
    if state is not None and state.drc_url:
        node.workerinput[WORKER_DRC_URL] = state.drc_url
    if state is not None and state.second_drc_url:
        node.workerinput[WORKER_SECOND_DRC_URL] = state.second_drc_url


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not _active(config):
        return
    suite = KicSuite.from_parent(session, name=SUITE_NODE, nodeid=SUITE_NODE)
    collected = suite.collect()
    items.extend(collected)
    # Tell the reporters, so "collected N items" counts the scenarios too.
    report = pytest.CollectReport(suite.nodeid, "passed", None, collected)
    config.hook.pytest_collectreport(report=report)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()
