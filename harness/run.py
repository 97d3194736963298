"""The whole conformance run, the same for the CLI and the pytest plugin.

:func:`run` goes plan -> probe -> scenarios -> fuzz phase and returns a
:class:`~harness.results.RunResult`:

- :func:`plan` loads the spec and the scenario library and applies the selection;
- :func:`probe` makes sure the target, and the mock DRC when there is one, answer at all;
- :func:`run_scenarios` runs them in threads, each through :func:`harness.runner.run_scenario`
  inside its :meth:`~harness.scheduling.DrcTurns.turn`, those that need the DRC alone last
  (:mod:`harness.scheduling`, the run-alone rule);
- :func:`fuzz_phase` runs :func:`harness.fuzz.run_fuzz`, recording clearly when it cannot.

The pytest plugin makes one item per planned scenario and runs each the same way (plan, probe,
turn, :func:`~harness.runner.run_scenario`), and its fuzz items through :func:`fuzz_phase`.
Problems of the run itself (bad spec, bad scenario files, target or DRC unreachable before the
first scenario) set ``aborted``; target misbehaviour becomes failed checks. Nothing raises.
"""

from __future__ import annotations

import datetime as dt
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.config import RunConfig, Selection
from harness.drc_control import DrcControlError
from harness.fuzz import run_fuzz
from harness.results import CaseResult, Level, RunResult
from harness.runner import RunContext, run_scenario
from harness.scenarios import Scenario, ScenarioError, load_library
from harness.scheduling import DrcTurns, split
from harness.spec import Spec, SpecError, load_spec
from harness.transport import send

#: Called with (the case just finished or None at the start, cases done, cases in total).
Progress = Callable[[CaseResult | None, int, int], None]


@dataclass
class Plan:
    """What a run will do: the contract and the selected scenarios (library order, which is
    the order of the reports; :func:`~harness.scheduling.in_run_order` is the running order)."""

    spec: Spec
    scenarios: list[Scenario]


def plan(
    *,
    spec_path: Path | None = None,
    scenario_paths: Sequence[Path | str] | None = None,
    selection: Selection | None = None,
    scenarios: list[Scenario] | None = None,
) -> Plan:
    """Load the spec and the library (unless ``scenarios`` are given) and select.

    Raises :class:`~harness.spec.SpecError` or :class:`~harness.scenarios.ScenarioError`.
    """
    spec = load_spec(spec_path)
    library = scenarios
    if library is None:
        library = load_library([str(p) for p in scenario_paths] if scenario_paths else None, spec)
    chosen = selection or Selection()
    return Plan(spec, [s for s in library if chosen.selects(s)])


def probe(context: RunContext) -> str | None:
    """None when the target answers HTTP at all (and the DRC's control API, when there is a
    DRC); otherwise why the run cannot go on."""
    config = context.config
    response, _ = send(
        context.client,
        "GET",
        config.target + "/",
        headers={"Accept": "application/json"},
        timeout=config.timeout,
        max_body_bytes=65_536,
    )
    if response.status is None:
        return f"target {config.target} cannot be reached: {response.error}"
    if context.drc is not None:
        try:
            context.drc.ping()
        except DrcControlError as exc:
            return str(exc)
    return None


def run_scenarios(
    scenarios: Sequence[Scenario],
    context: RunContext,
    turns: DrcTurns,
    progress: Progress | None = None,
) -> list[CaseResult]:
    """Run planned scenarios: those sharing the DRC in ``config.workers`` threads, then the
    run-alone ones one by one; the cases come back in the order of ``scenarios``."""
    total = len(scenarios)
    cases: dict[str, CaseResult] = {}
    lock = threading.Lock()
    if progress:
        progress(None, 0, total)

    def one(scenario: Scenario) -> None:
        with turns.turn(scenario):
            case = run_scenario(scenario, context)
        with lock:
            cases[scenario.id] = case
            if progress:
                progress(case, len(cases), total)

    shared, alone = split(scenarios)
    with ThreadPoolExecutor(max_workers=max(1, context.config.workers)) as pool:
        list(pool.map(one, shared))
    for scenario in alone:
        one(scenario)
    return [cases[s.id] for s in scenarios]


def fuzz_phase(context: RunContext, result: RunResult) -> None:
    """Fuzz the selected operations into ``result``; a failure of the phase itself is one
    error case ``fuzz``, never an exception."""
    try:
        run_fuzz(context.config, result, drc=context.drc)
    except Exception as exc:
        result.cases.append(
            CaseResult(
                id="fuzz",
                title="Property-based fuzzing of every operation",
                rule="oas:fuzz",
                level=Level.MUST,
                kind="fuzz",
                error=f"fuzzing could not run: {exc!r}\n{traceback.format_exc()}",
            )
        )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run(
    config: RunConfig, *, scenarios: list[Scenario] | None = None, progress: Progress | None = None
) -> RunResult:
    """Run the selected scenarios (then the fuzzer) against ``config.target``."""
    result = RunResult(
        target=config.target,
        started_at=_now(),
        fuzz_seed=config.fuzz_seed,
        settings=config.describe(),
    )
    try:
        planned = plan(
            spec_path=config.spec_path,
            scenario_paths=config.scenario_paths,
            selection=config.selection,
            scenarios=scenarios,
        )
    except (SpecError, ScenarioError) as exc:
        result.aborted = str(exc)
        result.finished_at = _now()
        return result
    result.spec_version = planned.spec.version
    result.documented_statuses = planned.spec.documented_statuses()
    context = RunContext.create(config, planned.spec)
    try:
        result.aborted = probe(context)
        if result.aborted is None:
            turns = DrcTurns(config.drc_url)
            result.cases = run_scenarios(planned.scenarios, context, turns, progress)
            for case in result.cases:
                for exchange in case.exchanges:
                    result.record_status(exchange.operation_id, exchange.status)
            if config.fuzz_examples > 0:
                fuzz_phase(context, result)  # records the statuses it observes itself
    finally:
        context.close()
    result.finished_at = _now()
    return result
