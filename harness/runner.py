"""The scenario runner: executes one scenario against a target and turns what happened into a
:class:`~harness.results.CaseResult`.

:func:`run_scenario` is what both front ends call for each scenario (the whole run around it is
:mod:`harness.run`). An HTTP step is built and sent by :class:`harness.http_step.CaseHttp`
(:func:`harness.request.build_request`, :func:`harness.transport.send`, each exchange recorded
in the case), and its response goes through the checks of
:data:`harness.checks.RESPONSE_CHECKS`; a ``drc`` step drives the mock DRC and a ``drc_expect``
step goes through :data:`harness.checks.DRC_CHECKS`, both by :mod:`harness.drc_steps`. Both act
on the run's first DRC, or with ``on_drc: second`` on its second one (scenarios with documents
of two DRCs). Nothing the target does makes :func:`run_scenario` raise.

Every check is marked with its step's index and whether that step is under test (set-up
failures make a case *precondition failed*). A scenario that used the mock DRC and did not
pass carries the DRC's journal entries about its own objects (``mentions`` of its saved URLs,
so other scenarios running at the same time never show up), call-backs included.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness import checks, drc_steps, templating
from harness.config import MissingCapability, RunConfig
from harness.drc_control import DrcControl, DrcControlError
from harness.http_step import CaseHttp
from harness.results import CaseResult, CheckResult, Level, Outcome
from harness.scenarios import Scenario, Step
from harness.spec import Spec, load_spec
from harness.transport import new_client


class _StopScenario(Exception):
    """Stop the remaining steps (a prior step failed in a way later steps depend on)."""


@dataclass
class RunContext:
    """What running a scenario needs: settings, the spec, an HTTP client, the DRC controls."""

    config: RunConfig
    spec: Spec
    client: httpx.Client = field(default_factory=new_client)
    drc: DrcControl | None = None
    second_drc: DrcControl | None = None

    @classmethod
    def create(cls, config: RunConfig, spec: Spec | None = None) -> RunContext:
        tls = config.ssl_context()
        drc = DrcControl(config.drc_url, config.timeout, tls) if config.drc_url else None
        second = None
        if config.drc_url and config.second_drc_url:
            second = DrcControl(config.second_drc_url, config.timeout, tls)
        client = new_client(verify=tls)
        return cls(config, spec or load_spec(config.spec_path), client, drc, second)

    def close(self) -> None:
        self.client.close()
        for drc in (self.drc, self.second_drc):
            if drc is not None:
                drc.close()


class _ScenarioRun:
    """The state of one scenario execution: variables, the case result, the journal start."""

    def __init__(self, scenario: Scenario, context: RunContext) -> None:
        self.scenario = scenario
        self.context = context
        self.config = context.config
        self.case = CaseResult(
            id=scenario.id,
            title=scenario.title,
            rule=scenario.rule,
            level=scenario.level,
            kind="scenario",
            tags=list(scenario.tags),
            operations=list(scenario.operations),
            operations_under_test=list(scenario.operations_under_test),
            source=scenario.source,
        )
        drc, second = context.drc, context.second_drc
        self.variables: dict[str, Any] = {
            "api_root": self.config.target,
            "documents_root": drc.documents_root if drc else None,
            "second_documents_root": second.documents_root if second else None,
            "zaken_root": drc.zaken_root if drc else None,
            "unique": uuid.uuid4().hex[:12],
            "year": dt.date.today().year,
        }
        self.http = CaseHttp(context.client, self.config, context.spec, self.case)
        self.journal_start: int | None = None
        self.second_journal_start: int | None = None
        self.step: Step | None = None
        # True while the ``finally:`` steps run: their checks become cleanup problems, which
        # reports show but the outcome ignores (the behaviour under test is already decided).
        self.in_cleanup = False

    def level(self, step: Step, key: str | None, default: Level | None) -> Level:
        """The level of a check: ``expect.levels``, else the entry's, else step or scenario."""
        overrides = (step.data.get("expect") or {}).get("levels") or {}
        if key and key in overrides:
            return Level(overrides[key])
        if default is not None:
            return default
        return Level(step.data["level"]) if "level" in step.data else self.scenario.level

    def add(self, check: CheckResult, step: Step) -> CheckResult:
        check.name = f"{step.label}: {check.name}"
        check.cleanup = self.in_cleanup
        check.step = step.index
        check.under_test = step.under_test and not self.in_cleanup
        self.case.checks.append(check)
        return check

    def rendered(self, step: Step) -> dict[str, Any]:
        """The step with its templates filled in (``save`` stays as written)."""
        return templating.render(
            {k: v for k, v in step.data.items() if k != "save"}, self.variables
        )

    # -- HTTP steps ----------------------------------------------------------------------

    def http_step(self, step: Step) -> None:
        seen = self.http.exchange(step, self.rendered(step), str(self.variables["unique"]))
        self.check_response(seen)
        self.save_captures(seen)

    def check_response(self, seen: checks.StepExchange) -> None:
        """Every check of the registry that applies; stops the scenario where one gates."""
        step, response = seen.step, seen.response
        received = checks.response_received(seen)
        if response.status is None or not received.passed:
            self.add(received, step)
        if response.status is None:
            # During cleanup an unreachable target is a cleanup problem (the failed
            # response_received check above), not an error of a case that already ran.
            if response.connect_failed and not self.in_cleanup:
                self.case.error = f"{step.label}: target unreachable ({response.error})"
            raise _StopScenario
        stop = False
        for entry in checks.RESPONSE_CHECKS:
            expected = entry.expected(seen, seen.expect)
            if expected is checks.NOT_GIVEN:
                continue
            result = entry.check(seen, expected, self.level(step, entry.level_key, entry.level))
            if result is not None:
                self.add(result, step)
                stop = stop or entry.stops(seen, result)
        if stop:
            raise _StopScenario

    def save_captures(self, seen: checks.StepExchange) -> None:
        response = seen.response
        parsed_ok, body = response.json()
        for name, expression in (seen.step.data.get("save") or {}).items():
            try:
                if expression.startswith("$") and not parsed_ok:
                    raise templating.TemplateError(f"{expression}: the response body is not JSON")
                self.variables[name] = templating.capture(
                    expression, body=body, headers=response.headers, status=response.status
                )
            except templating.TemplateError as exc:
                level = self.level(seen.step, None, None)
                self.add(checks.capture_failed(name, str(exc), level, seen.index), seen.step)
                raise _StopScenario from None

    # -- DRC steps -----------------------------------------------------------------------

    def drc_step(self, step: Step) -> None:
        data = self.rendered(step)
        result = drc_steps.perform(self.require_drc(data.get("on_drc", "first")), data)
        for name, expression in (step.data.get("save") or {}).items():
            try:
                self.variables[name] = templating.capture(
                    expression, body=result, headers={}, status=None
                )
            except templating.TemplateError as exc:
                # What the DRC holds depends on the KIC (find_mirrors finds what it mirrored).
                level = self.level(step, None, None)
                self.add(checks.capture_failed(name, f"the DRC: {exc}", level, None), step)
                raise _StopScenario from None

    def drc_expect_step(self, step: Step) -> None:
        on = str(step.data.get("on_drc", "first"))
        drc = self.require_drc(on)
        since = self.second_journal_start if on == "second" else self.journal_start
        others = tuple(
            d for d in (self.context.drc, self.context.second_drc) if d not in (None, drc)
        )
        expect = templating.render(step.data["drc_expect"], self.variables)
        level = self.level(step, None, None)

        def view() -> checks.DrcView:
            return checks.DrcView(drc, since, others, self.http.kic_relations)

        for result in drc_steps.judge(expect, level, view):
            self.add(result, step)

    def require_drc(self, which: str = "first") -> DrcControl:
        return drc_steps.choose_drc(self.context.drc, self.context.second_drc, which)

    # -- driving -----------------------------------------------------------------------

    def run_step(self, step: Step) -> None:
        self.step = step
        if step.kind in ("call", "request"):
            self.http_step(step)
        elif step.kind == "drc":
            self.drc_step(step)
        else:
            self.drc_expect_step(step)

    def execute(self) -> CaseResult:
        started = time.monotonic()
        scenario = self.scenario
        missing = sorted(set(scenario.requires) - self.config.available_capabilities())
        if missing:
            self.case.skip_reason = self.config.skip_reason(missing)
            return self.case
        try:
            self.variables.update(templating.render(scenario.vars, self.variables))
            if self.context.drc is not None and self.uses_drc():
                self.journal_start = self.context.drc.journal_cursor()
                if self.context.second_drc is not None:
                    self.second_journal_start = self.context.second_drc.journal_cursor()
            for step in scenario.steps:
                self.run_step(step)
        except _StopScenario:
            pass
        except MissingCapability as exc:
            self.missing_capability(exc.capability)
        except templating.TemplateError as exc:
            self.case.error = f"{self.where()}: scenario problem: {exc}"
        except DrcControlError as exc:
            self.case.error = f"{self.where()}: {exc}"
        except Exception as exc:  # a harness bug must not take the whole run down
            self.case.error = f"{self.where()}: harness error: {exc!r}\n{traceback.format_exc()}"
        if self.case.outcome not in (Outcome.PASSED, Outcome.SKIPPED):
            self.collect_drc_journal()
        self.cleanup()
        self.case.duration_s = round(time.monotonic() - started, 3)
        return self.case

    def missing_capability(self, capability: str) -> None:
        """A step needs what the run lacks: the case is skipped, unless a check already
        failed: a failure the run saw is never hidden behind a skip."""
        if not self.case.failed_checks():
            self.case.skip_reason = self.config.skip_reason([capability])
            return
        self.case.checks.append(
            CheckResult(
                name=f"{self.step.label if self.step else 'scenario'}: remaining steps",
                passed=True,
                level=self.scenario.level,
                message=f"not run: {self.config.skip_reason([capability])}",
            )
        )

    def uses_drc(self) -> bool:
        scenario = self.scenario
        return "drc" in scenario.requires or any(
            s.kind in ("drc", "drc_expect") for s in scenario.steps
        )

    def collect_drc_journal(self) -> None:
        """Keep the DRC's journal entries about this scenario's objects."""
        drc = self.context.drc
        urls = drc_steps.mentioned_urls(self.variables)
        if drc is None or not urls or not self.uses_drc():
            return
        self.case.drc_journal = drc_steps.case_journal(
            urls,
            self.variables,
            drc,
            self.journal_start,
            self.context.second_drc,
            self.second_journal_start,
        )

    def where(self) -> str:
        if self.step is None:
            return self.scenario.source
        return f"{self.scenario.file}:{self.step.line} {self.step.label}"

    def cleanup(self) -> None:
        """Run the ``finally:`` steps; whatever goes wrong there is recorded as cleanup."""
        self.in_cleanup = True
        for step in self.scenario.finally_steps:
            used = {k: v for k, v in step.data.items() if k != "save"}
            if {n for n, _ in templating.placeholders(used)} - set(self.variables):
                continue  # what it would clean up was never created
            try:
                self.run_step(step)
            except _StopScenario:
                continue
            except (MissingCapability, templating.TemplateError, DrcControlError) as exc:
                self.add(self.cleanup_error(f"cleanup could not run: {exc}"), step)
            except Exception as exc:
                self.add(self.cleanup_error(f"harness error during cleanup: {exc!r}"), step)

    def cleanup_error(self, message: str) -> CheckResult:
        # Level as the scenario's: with cleanup=True it is reported, never counted.
        return CheckResult(name="cleanup", passed=False, level=self.scenario.level, message=message)


def run_scenario(scenario: Scenario, context: RunContext) -> CaseResult:
    """Run one scenario and return its result; never raises.

    The ``finally:`` steps always run after the steps; their failed checks are marked
    ``cleanup`` and reported as cleanup problems, outside the case's outcome.
    """
    case = _ScenarioRun(scenario, context).execute()
    case.reproduce = context.config.reproduce_command(scenario.id)
    return case
