"""The scenario runner: executes one scenario against a target and turns what happened into a
:class:`~harness.results.CaseResult`.

:func:`run_scenario` is what both front ends call for each scenario (the whole run around it is
:mod:`harness.run`). An HTTP step is built by :func:`harness.request.build_request`, sent through
:func:`harness.transport.send`, and its response goes through the checks of
:data:`harness.checks.RESPONSE_CHECKS`; a ``drc`` step drives the mock DRC through
:class:`~harness.drc_control.DrcControl`; a ``drc_expect`` step goes through
:data:`harness.checks.DRC_CHECKS`. Nothing the target does makes :func:`run_scenario` raise.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness import checks, templating
from harness.config import MissingCapability, RunConfig
from harness.drc_control import DrcControl, DrcControlError, documents_path
from harness.request import build_request
from harness.results import CaseResult, CheckResult, Level
from harness.scenarios import Scenario, Step
from harness.spec import Spec, load_spec
from harness.transport import new_client, send

POSITIVE_DRC_RETRIES = 5
POSITIVE_DRC_PAUSE = 0.3


class _StopScenario(Exception):
    """Stop the remaining steps (a prior step failed in a way later steps depend on)."""


@dataclass
class RunContext:
    """What running a scenario needs: settings, the spec, an HTTP client, the DRC control."""

    config: RunConfig
    spec: Spec
    client: httpx.Client = field(default_factory=new_client)
    drc: DrcControl | None = None

    @classmethod
    def create(cls, config: RunConfig, spec: Spec | None = None) -> RunContext:
        tls = config.ssl_context()
        drc = DrcControl(config.drc_url, config.timeout, tls) if config.drc_url else None
        return cls(config, spec or load_spec(config.spec_path), new_client(verify=tls), drc)

    def close(self) -> None:
        self.client.close()
        if self.drc is not None:
            self.drc.close()


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
            source=scenario.source,
        )
        drc = context.drc
        self.variables: dict[str, Any] = {
            "api_root": self.config.target,
            "documents_root": drc.documents_root if drc else None,
            "zaken_root": drc.zaken_root if drc else None,
            "unique": uuid.uuid4().hex[:12],
            "year": dt.date.today().year,
        }
        self.journal_start: int | None = None
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
        self.case.checks.append(check)
        return check

    def rendered(self, step: Step) -> dict[str, Any]:
        """The step with its templates filled in (``save`` stays as written)."""
        return templating.render(
            {k: v for k, v in step.data.items() if k != "save"}, self.variables
        )

    # -- HTTP steps ----------------------------------------------------------------------

    def http_step(self, step: Step) -> None:
        data = self.rendered(step)
        request = build_request(step.kind, data, self.context.spec, self.config)
        response, exchange = send(
            self.context.client,
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            timeout=self.config.timeout,
            max_body_bytes=self.config.max_body_bytes,
            operation_id=request.operation.operation_id if request.operation else None,
        )
        self.case.exchanges.append(exchange)
        seen = checks.StepExchange(
            step=step,
            request=data,
            response=response,
            index=len(self.case.exchanges) - 1,
            exchanges=tuple(self.case.exchanges),
            spec=self.context.spec,
            operation=request.operation,
        )
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
            result = entry.check(seen, expected, self.level(step, entry.key, entry.level))
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
        drc = self.require_drc()
        data = self.rendered(step)
        action = data["drc"]
        result: Any = None
        if action == "create_document":
            result = drc.create_document(data.get("fields"))
        elif action == "create_zaak":
            result = drc.create_zaak(data.get("fields"))
        elif action in ("link_zaak", "unlink_zaak"):
            link = {k: data[k] for k in ("zaak", "contactmoment", "verzoek") if k in data}
            result = drc.link_zaak(link) if action == "link_zaak" else drc.unlink_zaak(link)
        elif action == "fault":
            rule = {k: data[k] for k in ("method", "status", "delay", "drop", "count") if k in data}
            rule["path"] = documents_path(str(data["path"]))
            result = drc.add_fault(rule)
        elif action == "clear_faults":
            drc.clear_faults()
        for name, expression in (step.data.get("save") or {}).items():
            self.variables[name] = templating.capture(
                expression, body=result, headers={}, status=None
            )

    def drc_expect_step(self, step: Step) -> None:
        drc = self.require_drc()
        expect = templating.render(step.data["drc_expect"], self.variables)
        level = self.level(step, None, None)
        for entry in checks.DRC_CHECKS:
            if entry.key not in expect:
                continue
            attempts = POSITIVE_DRC_RETRIES if entry.eventually(expect[entry.key]) else 1
            for attempt in range(attempts):
                view = checks.DrcView(drc, self.journal_start)
                result = entry.check(view, expect[entry.key], level)
                if result.passed or attempt == attempts - 1:
                    break
                time.sleep(POSITIVE_DRC_PAUSE)
            self.add(result, step)

    def require_drc(self) -> DrcControl:
        if self.context.drc is None:
            raise MissingCapability("drc")
        return self.context.drc

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
            if self.context.drc is not None and any(s.kind == "drc_expect" for s in scenario.steps):
                self.journal_start = self.context.drc.journal_cursor()
            for step in scenario.steps:
                self.run_step(step)
        except _StopScenario:
            pass
        except MissingCapability as exc:
            self.case.skip_reason = self.config.skip_reason([exc.capability])
        except templating.TemplateError as exc:
            self.case.error = f"{self.where()}: scenario problem: {exc}"
        except DrcControlError as exc:
            self.case.error = f"{self.where()}: {exc}"
        except Exception as exc:  # a harness bug must not take the whole run down
            self.case.error = f"{self.where()}: harness error: {exc!r}\n{traceback.format_exc()}"
        self.cleanup()
        self.case.duration_s = round(time.monotonic() - started, 3)
        return self.case

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
