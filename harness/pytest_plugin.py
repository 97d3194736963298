"""pytest plugin: the conformance scenarios as pytest items (``pytest --kic-url ...``).

Registered as the ``kic_conformance`` pytest11 entry point. Without ``--kic-url`` or
``--kic-demo`` it does nothing. With them, every selected scenario becomes an item
``kic-conformance::<scenario id>`` marked per tag, rule (``kic_001``, ``oas_klant_create``) and
level (``must``/``should``/``reference``), so ``-k`` and ``-m`` select. A must-failure fails the
item; should-failures and reference differences become warnings, and so do cleanup problems
(failed ``finally:`` steps) of an item that passes or is skipped. The run is the CLI's
(:mod:`harness.run`): the same plan, the same probe before the first item, each item through
:func:`harness.runner.run_scenario` inside its :meth:`~harness.scheduling.DrcTurns.turn`, the
items in :func:`~harness.scheduling.in_run_order` (the run-alone rule holds between xdist workers
that share a DRC too), fuzz items through :func:`harness.run.fuzz_phase`. Under xdist every
worker in ``--kic-demo`` mode starts its own embedded environment; with ``--kic-url`` all share
the target.
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

from harness.config import RunConfig, Selection
from harness.report.text import case_text, cleanup_text
from harness.results import CaseResult, Outcome, RunResult
from harness.scenarios import Scenario, ScenarioError
from harness.scheduling import DrcTurns, in_run_order
from harness.spec import SpecError

if TYPE_CHECKING:
    from harness.runner import RunContext

SUITE_NODE = "kic-conformance"
_STATE = pytest.StashKey["_SessionState"]()


class KicConformanceWarning(UserWarning):
    """A should-level failure or a difference from the reference implementation."""


class KicCleanupWarning(UserWarning):
    """A ``finally:`` step failed: not a non-conformance, but the KIC may have kept test data."""


class ScenarioFailed(Exception):
    """A scenario came out FAILED or ERROR; carries the case for the failure report."""

    def __init__(self, case: CaseResult) -> None:
        super().__init__(case.id)
        self.case = case


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kic-conformance", "KIC conformance scenarios")
    group.addoption("--kic-url", help="API root of the KIC to test (enables the scenarios)")
    group.addoption("--kic-client-id", help="client with all klanten scopes")
    group.addoption("--kic-secret", help="that client's JWT secret")
    group.addoption("--kic-narrow-client-id", help="client with only klanten.lezen")
    group.addoption("--kic-narrow-secret", help="that client's JWT secret")
    group.addoption("--kic-drc-url", help="base URL of a mock DRC started apart")
    group.addoption(
        "--kic-demo",
        action="store_true",
        help="test the built-in reference KIC with an embedded mock DRC",
    )
    group.addoption(
        "--kic-scenarios",
        action="append",
        metavar="DIR",
        help="scenario folder (repeatable; default: the built-in library)",
    )
    group.addoption(
        "--kic-fuzz-examples",
        type=int,
        default=0,
        metavar="N",
        help="add a fuzzing item with N examples per operation (default 0: none)",
    )


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("kic_url") or config.getoption("kic_demo"))


def mark_names(scenario: Scenario) -> list[str]:
    """The pytest marks of a scenario: tags, rule and level as identifiers."""
    names = [*scenario.tags, scenario.rule, scenario.level.value]
    return list(dict.fromkeys(re.sub(r"\W", "_", n).strip("_").lower() for n in names if n))


class _SessionState:
    """The per-process run configuration, runner context and DRC turns, made on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self.stack = contextlib.ExitStack()
        self.context: RunContext | None = None
        self.turns = DrcTurns(None)
        self.aborted: str | None = None

    def get(self) -> RunContext:
        """The context to run items with; fails the item when the run cannot go on."""
        if self.context is None and self.aborted is None:
            self._start()
        if self.aborted:
            pytest.fail(self.aborted, pytrace=False)
        assert self.context is not None
        return self.context

    def _start(self) -> None:
        from harness.run import probe
        from harness.runner import RunContext

        run_config = self._run_config()
        run_config.fuzz_examples = self.pytest_config.getoption("kic_fuzz_examples")
        self.context = RunContext.create(run_config)
        self.stack.callback(self.context.close)
        self.turns = DrcTurns(run_config.drc_url)
        self.aborted = probe(self.context)

    def _run_config(self) -> RunConfig:
        option = self.pytest_config.getoption
        if option("kic_demo"):
            from harness.environment import embedded_environment

            return self.stack.enter_context(embedded_environment(fuzz_examples=0))
        if not option("kic_client_id") or not option("kic_secret"):
            raise pytest.UsageError("--kic-url needs --kic-client-id and --kic-secret")
        narrow = None
        if option("kic_narrow_client_id"):
            narrow = (option("kic_narrow_client_id"), option("kic_narrow_secret") or "")
        return RunConfig(
            target=option("kic_url"),
            client_id=option("kic_client_id"),
            secret=option("kic_secret"),
            narrow_client=narrow,
            drc_url=option("kic_drc_url"),
        )

    def close(self) -> None:
        self.stack.close()


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
        from harness.run import plan

        folders = self.config.getoption("kic_scenarios")
        try:
            planned = plan(scenario_paths=folders or None)
        except (ScenarioError, SpecError) as exc:
            raise pytest.UsageError(f"kic-conformance scenarios:\n{exc}") from None
        items: list[pytest.Item] = []
        for scenario in in_run_order(planned.scenarios):
            for name in mark_names(scenario):
                self.config.addinivalue_line("markers", f"{name}: kic-conformance scenarios")
            items.append(ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario))
        if self.config.getoption("kic_fuzz_examples") > 0:
            self.config.addinivalue_line("markers", "fuzz: kic-conformance fuzzing items")
            for op_id in planned.spec.operations:
                self.config.addinivalue_line("markers", f"oas_{op_id}: kic-conformance scenarios")
                items.append(FuzzItem.from_parent(self, name=f"fuzz:{op_id}", operation_id=op_id))
        return items


def pytest_configure(config: pytest.Config) -> None:
    if _active(config):
        config.stash[_STATE] = _SessionState(config)
        for level in ("must", "should", "reference"):
            config.addinivalue_line("markers", f"{level}: kic-conformance requirement level")


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
