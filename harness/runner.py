"""The runner: executes scenarios against a target and turns what happened into results.

:func:`run` runs the selected scenarios of a :class:`~harness.config.RunConfig` in threads
(scenarios that set DRC faults or assert absences or counts in the shared DRC run one at a
time afterwards), then the fuzzer (:func:`harness.fuzz.run_fuzz`) when asked, and returns a
:class:`~harness.results.RunResult`. :func:`run_scenario` runs one scenario and is shared with
the pytest plugin, so a scenario behaves the same in both front ends. Nothing the target does
makes these functions raise.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from harness import checks, templating
from harness.config import RunConfig
from harness.drc_control import DOCUMENTS_PATH, DrcControl, DrcControlError
from harness.results import CaseResult, CheckResult, Level, RunResult
from harness.scenarios import Scenario, ScenarioError, Step, load_library
from harness.spec import Spec, SpecError, load_spec
from harness.transport import Response, new_client, send
from zgw.jwt import bearer

Progress = Callable[[CaseResult | None, int, int], None]
INVALID_TOKEN = "Bearer this-is-not-a-jwt"
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
        drc = DrcControl(config.drc_url, config.timeout) if config.drc_url else None
        return cls(config, spec or load_spec(config.spec_path), new_client(), drc)

    def close(self) -> None:
        self.client.close()
        if self.drc is not None:
            self.drc.close()


# --------------------------------------------------------------------------- one scenario


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
        self.variables: dict[str, Any] = {
            "api_root": self.config.target,
            "documents_root": self.config.documents_root,
            "zaken_root": self.config.zaken_root,
            "unique": uuid.uuid4().hex[:12],
            "year": dt.date.today().year,
        }
        self.journal_start: int | None = None
        self.step: Step | None = None
        # True while the ``finally:`` steps run: their checks become cleanup problems, which
        # reports show but the outcome ignores (the behaviour under test is already decided).
        self.in_cleanup = False

    def level(self, step: Step, key: str | None = None, default: Level | None = None) -> Level:
        overrides = (step.data.get("expect") or {}).get("levels") or {}
        if key and key in overrides:
            return Level(overrides[key])
        if default is not None:
            return default
        return Level(step.data["level"]) if "level" in step.data else self.scenario.level

    def add(self, check: CheckResult, step: Step) -> CheckResult:
        prefix = step.label
        check.name = f"{prefix}: {check.name}"
        check.cleanup = self.in_cleanup
        self.case.checks.append(check)
        return check

    # -- the three kinds of step ---------------------------------------------------------

    def http_step(self, step: Step) -> None:
        data = templating.render(
            {k: v for k, v in step.data.items() if k != "save"}, self.variables
        )
        spec = self.context.spec
        op_id = None
        if step.kind == "call":
            op = spec.operation(data["call"])
            op_id = op.operation_id
            method = op.method
            path = op.path
            for name, value in (data.get("path") or {}).items():
                path = path.replace("{" + name + "}", quote(str(value), safe=""))
        else:
            method = str(data["request"]["method"]).upper()
            path = str(data["request"]["path"])
            found = spec.find_operation(method, path)
            op_id = found.operation_id if found else None
        url = self.config.target + (path if path.startswith("/") else "/" + path)
        query = data.get("query")
        if query:
            url += "?" + urlencode({k: _query_value(v) for k, v in query.items()}, doseq=True)
        headers = {"Accept": "application/json"}
        content = None
        if "body" in data:
            content = json.dumps(data["body"]).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif "raw_body" in data:
            content = str(data["raw_body"]).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if "content_type" in data:
            headers["Content-Type"] = str(data["content_type"])
        authorization = self.authorization(data.get("auth", "default"))
        if authorization is not None:
            headers["Authorization"] = authorization
        for name, value in (data.get("headers") or {}).items():
            for existing in [h for h in headers if h.lower() == str(name).lower()]:
                del headers[existing]
            headers[str(name)] = str(value)
        response, exchange = send(
            self.context.client,
            method,
            url,
            headers=headers,
            content=content,
            timeout=self.config.timeout,
            max_body_bytes=self.config.max_body_bytes,
            operation_id=op_id,
        )
        self.case.exchanges.append(exchange)
        index = len(self.case.exchanges) - 1
        self.check_response(step, data, response, index, op_id)

    def authorization(self, auth: Any) -> str | None:
        config = self.config
        if auth in (None, "default") or auth == {"client": "default"}:
            return bearer(config.client_id, config.secret)
        if auth == "none":
            return None
        if auth == "invalid":
            return INVALID_TOKEN
        if auth == "wrong-secret":
            return bearer(config.client_id, config.secret + "-but-wrong")
        if isinstance(auth, dict) and auth.get("client") == "narrow":
            if config.narrow_client is None:
                raise _MissingCapability("narrow-client")
            return bearer(*config.narrow_client)
        if isinstance(auth, dict) and "token" in auth:
            return f"Bearer {auth['token']}"
        raise templating.TemplateError(f"unknown auth {auth!r}")

    def check_response(
        self, step: Step, data: dict[str, Any], response: Response, index: int, op_id: str | None
    ) -> None:
        expect = data.get("expect") or {}
        received = checks.response_received(response, index)
        if response.status is None or not received.passed:
            self.add(received, step)
        if response.status is None:
            # During cleanup an unreachable target is a cleanup problem (the failed
            # response_received check above), not an error of a case that already ran.
            if response.connect_failed and not self.in_cleanup:
                self.case.error = f"{step.label}: target unreachable ({response.error})"
            raise _StopScenario
        ok = True
        status = expect.get("status")
        if status is None and step.kind == "call" and op_id:
            status = [
                s
                for s in self.context.spec.operation(op_id).documented_statuses()
                if 200 <= s < 300
            ] or None
        if status is not None:
            ok = self.add(
                checks.status_code(status, response, self.level(step, "status"), index), step
            ).passed
        self.add(checks.not_server_error(response, index), step)
        self.add(checks.api_version_header(response, index), step)
        schema = expect.get("schema", step.kind == "call")
        schema_op = schema if isinstance(schema, str) else (op_id if schema is True else None)
        if (schema_op and step.kind == "call") or isinstance(schema, str):
            self.add(
                checks.response_schema(
                    self.context.spec,
                    schema_op,
                    response,
                    self.level(step, "schema", Level.MUST),
                    index,
                ),
                step,
            )
        if "body" in expect:
            self.add(
                checks.body_matches(expect["body"], response, self.level(step, "body"), index), step
            )
        if "headers" in expect:
            self.add(
                checks.headers_match(
                    expect["headers"], response, self.level(step, "headers"), index
                ),
                step,
            )
        if "invalid_params" in expect:
            self.add(
                checks.invalid_params(
                    expect["invalid_params"],
                    response,
                    self.level(step, "invalid_params", Level.REFERENCE),
                    index,
                ),
                step,
            )
        if "error_code" in expect:
            self.add(
                checks.error_code(
                    expect["error_code"],
                    response,
                    self.level(step, "error_code", Level.REFERENCE),
                    index,
                ),
                step,
            )
        if not ok:
            raise _StopScenario
        parsed_ok, body = response.json()
        for name, expression in (step.data.get("save") or {}).items():
            try:
                if expression.startswith("$") and not parsed_ok:
                    raise templating.TemplateError(f"{expression}: the response body is not JSON")
                self.variables[name] = templating.capture(
                    expression, body=body, headers=response.headers, status=response.status
                )
            except templating.TemplateError as exc:
                self.add(checks.capture_ok(name, str(exc), self.level(step), index), step)
                raise _StopScenario from None

    def drc_step(self, step: Step) -> None:
        drc = self.require_drc()
        data = templating.render(
            {k: v for k, v in step.data.items() if k != "save"}, self.variables
        )
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
            rule["path"] = f"{DOCUMENTS_PATH}/{str(data['path']).lstrip('/')}"
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
        level = self.level(step)
        for key in ("received", "not_received"):
            if key not in expect:
                continue
            expectation = expect[key]
            path = None
            if expectation.get("path"):
                path = f"{DOCUMENTS_PATH}/{str(expectation['path']).strip('/')}"
            negate = key == "not_received"
            attempts = 1 if negate else POSITIVE_DRC_RETRIES
            for attempt in range(attempts):
                entries = drc.journal(since=self.journal_start)
                check = checks.drc_received(expectation, entries, path, level, negate)
                if check.passed or attempt == attempts - 1:
                    break
                time.sleep(POSITIVE_DRC_PAUSE)
            self.add(check, step)
        if "mirrors" in expect:
            expectation = expect["mirrors"]
            positive = "contains" in expectation and "not_contains" not in expectation
            attempts = POSITIVE_DRC_RETRIES if positive else 1
            for attempt in range(attempts):
                check = checks.drc_mirrors(expectation, drc.mirrors(), level)
                if check.passed or attempt == attempts - 1:
                    break
                time.sleep(POSITIVE_DRC_PAUSE)
            self.add(check, step)

    def require_drc(self) -> DrcControl:
        if self.context.drc is None:
            raise _MissingCapability("drc")
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
            self.case.skip_reason = _skip_reason(missing)
            return self.case
        try:
            self.variables.update(templating.render(scenario.vars, self.variables))
            if self.context.drc is not None and any(s.kind == "drc_expect" for s in scenario.steps):
                self.journal_start = self.context.drc.journal_cursor()
            for step in scenario.steps:
                self.run_step(step)
        except _StopScenario:
            pass
        except _MissingCapability as exc:
            self.case.skip_reason = _skip_reason([exc.capability])
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
            names = {n for n, _ in _placeholder_names(step.data)}
            if names - set(self.variables):
                continue  # what it would clean up was never created
            try:
                self.run_step(step)
            except _StopScenario:
                continue
            except (_MissingCapability, templating.TemplateError, DrcControlError) as exc:
                self.add(self.cleanup_error(f"cleanup could not run: {exc}"), step)
            except Exception as exc:
                self.add(self.cleanup_error(f"harness error during cleanup: {exc!r}"), step)

    def cleanup_error(self, message: str) -> CheckResult:
        # Level as the scenario's: with cleanup=True it is reported, never counted.
        return CheckResult(name="cleanup", passed=False, level=self.scenario.level, message=message)


class _MissingCapability(Exception):
    def __init__(self, capability: str) -> None:
        super().__init__(capability)
        self.capability = capability


_SKIP_REASONS = {
    "drc": "needs the mock DRC (give --drc-url, or --drc-host/--drc-port to start one)",
    "zaken": "needs the mock DRC's Zaken endpoints (give --drc-url or --drc-host/--drc-port)",
    "narrow-client": "needs a narrow-scope client (--narrow-client-id/--narrow-secret)",
}


def _skip_reason(missing: list[str]) -> str:
    return "; ".join(_SKIP_REASONS.get(m, f"needs {m}") for m in missing)


def _placeholder_names(value: Any) -> list[tuple[str, str | None]]:
    from harness.scenarios import _placeholders

    return _placeholders({k: v for k, v in value.items() if k != "save"})


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(v) for v in value]
    return "" if value is None else str(value)


def run_scenario(scenario: Scenario, context: RunContext) -> CaseResult:
    """Run one scenario and return its result; never raises.

    The ``finally:`` steps always run after the steps; their failed checks are marked
    ``cleanup`` and reported as cleanup problems, outside the case's outcome.
    """
    case = _ScenarioRun(scenario, context).execute()
    case.reproduce = reproduce_command(context.config, scenario.id)
    return case


def reproduce_command(config: RunConfig, scenario_id: str) -> str:
    """A command line that re-runs one scenario (secrets masked)."""
    parts = [
        "kic-conformance run",
        f"--target {config.target}",
        f"--client-id {config.client_id}",
        "--secret '***'",
    ]
    if config.narrow_client:
        parts.append(f"--narrow-client-id {config.narrow_client[0]} --narrow-secret '***'")
    if config.drc_url:
        parts.append(f"--drc-url {config.drc_url}")
    parts.append(f"--id {scenario_id} --no-fuzz")
    return " ".join(parts)


# --------------------------------------------------------------------------- a whole run


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def probe_target(context: RunContext) -> str | None:
    """None when the target answers HTTP at all; otherwise why it cannot be reached."""
    response, _ = send(
        context.client,
        "GET",
        context.config.target + "/",
        headers={"Accept": "application/json"},
        timeout=context.config.timeout,
        max_body_bytes=65_536,
    )
    if response.status is None:
        return f"target {context.config.target} cannot be reached: {response.error}"
    return None


def run(
    config: RunConfig, *, scenarios: list[Scenario] | None = None, progress: Progress | None = None
) -> RunResult:
    """Run the selected scenarios (then the fuzzer) against ``config.target``.

    Problems with the run itself (bad spec, bad scenario files, target or DRC unreachable
    before the first scenario) set ``aborted``; target misbehaviour becomes failed checks.
    """
    result = RunResult(
        target=config.target,
        started_at=_now(),
        fuzz_seed=config.fuzz_seed,
        settings=config.describe(),
    )
    try:
        spec = load_spec(config.spec_path)
        result.spec_version = spec.version
        library = (
            scenarios
            if scenarios is not None
            else load_library(
                [str(p) for p in config.scenario_paths] if config.scenario_paths else None, spec
            )
        )
    except (SpecError, ScenarioError) as exc:
        result.aborted = str(exc)
        result.finished_at = _now()
        return result
    selected = [s for s in library if config.selection.selects(s)]
    context = RunContext.create(config, spec)
    try:
        result.aborted = probe_target(context)
        if result.aborted is None and context.drc is not None:
            try:
                context.drc.ping()
            except DrcControlError as exc:
                result.aborted = str(exc)
        if result.aborted:
            result.finished_at = _now()
            return result
        result.cases = _run_all(selected, context, progress)
        for case in result.cases:
            for exchange in case.exchanges:
                result.record_status(exchange.operation_id, exchange.status)
        if config.fuzz_examples > 0:
            _run_fuzz(config, result)  # records the statuses it observes itself
    finally:
        context.close()
    result.finished_at = _now()
    return result


def _run_all(
    selected: list[Scenario], context: RunContext, progress: Progress | None
) -> list[CaseResult]:
    total = len(selected)
    cases: dict[str, CaseResult] = {}
    lock = threading.Lock()
    done = 0
    if progress:
        progress(None, 0, total)

    def one(scenario: Scenario) -> None:
        nonlocal done
        case = run_scenario(scenario, context)
        with lock:
            cases[scenario.id] = case
            done += 1
            if progress:
                progress(case, done, total)

    # Faults and absence/count assertions concern the one shared DRC: run those alone, after.
    concurrent = [s for s in selected if not s.needs_exclusive_drc]
    exclusive = [s for s in selected if s.needs_exclusive_drc]
    with ThreadPoolExecutor(max_workers=max(1, context.config.workers)) as pool:
        list(pool.map(one, concurrent))
    for scenario in exclusive:
        one(scenario)
    return [cases[s.id] for s in selected]


def _run_fuzz(config: RunConfig, result: RunResult) -> None:
    """Call ``harness.fuzz.run_fuzz`` when the module exists; record clearly when it cannot."""
    if importlib.util.find_spec("harness.fuzz") is None:
        result.cases.append(
            CaseResult(
                id="fuzz",
                title="Property-based fuzzing of every operation",
                rule="oas:fuzz",
                level=Level.MUST,
                kind="fuzz",
                skip_reason="the fuzzing module harness.fuzz is not installed; fuzzing did not run",
            )
        )
        return
    try:
        fuzz = importlib.import_module("harness.fuzz")
        fuzz.run_fuzz(config, result)
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
