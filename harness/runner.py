"""The scenario runner: executes one scenario against a target and turns what happened into a
:class:`~harness.results.CaseResult`.

:func:`run_scenario` is what both front ends call for each scenario (the whole run around it is
:mod:`harness.run`). An HTTP step is built by :func:`harness.request.build_request`, sent through
:func:`harness.transport.send`, and its response goes through the checks of
:data:`harness.checks.RESPONSE_CHECKS`; a ``drc`` step drives the mock DRC through
:class:`~harness.drc_control.DrcControl`; a ``drc_expect`` step goes through
:data:`harness.checks.DRC_CHECKS`. Both act on the run's first DRC, or with ``on_drc: second`` on
its second one (scenarios with documents of two DRCs). Nothing the target does makes
:func:`run_scenario` raise.

Every check is marked with its step's index and whether that step is under test (set-up
failures make a case *precondition failed*). A scenario that used the mock DRC and did not
pass carries the DRC's journal entries about its own objects (``mentions`` of its saved URLs,
so other scenarios running at the same time never show up), call-backs included.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from harness import checks, templating
from harness.compare import under
from harness.config import MissingCapability, RunConfig
from harness.drc_control import DrcControl, DrcControlError, documents_path
from harness.request import build_request
from harness.results import CaseResult, CheckResult, Level, Outcome
from harness.scenarios import BUILTIN_VARS, Scenario, Step
from harness.spec import Spec, load_spec
from harness.transport import Response, new_client, send

POSITIVE_DRC_RETRIES = 5
POSITIVE_DRC_PAUSE = 0.3
#: At most this many URLs go into one ``mentions`` query (gunicorn caps the request line).
MAX_MENTIONS = 20
#: What a report keeps of a DRC journal entry (not the headers: they hold the KIC's JWT).
JOURNAL_FIELDS = (
    "id",
    "time",
    "method",
    "path",
    "query",
    "body",
    "status",
    "fault",
    "resource",
    "callbacks",
)


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
        data = self.rendered(step)
        request = build_request(step.kind, data, self.context.spec, self.config)
        probe = checks.probe_url(
            request.method,
            request.url,
            data,
            self.context.spec,
            self.config.target,
            str(self.variables["unique"]),
        )
        before = checks.take_snapshot(probe, self.follow) if probe else None
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
            api_root=self.config.target,
            follow=self.follow,
            before=before,
        )
        self.check_response(seen)
        self.save_captures(seen)

    def follow(self, url: str) -> tuple[Response, int] | None:
        """GET ``url`` with the main client for an invariant (the read after a write, the state
        around a refused one), recorded as an exchange of the case. None for a URL outside
        the API root: the token goes nowhere else."""
        if not under(url, self.config.target):
            return None
        headers = {"Accept": "application/json"}
        authorization = self.config.authorization("default")
        if authorization is not None:
            headers["Authorization"] = authorization
        relative = url[len(self.config.target) :] if url.startswith(self.config.target) else ""
        operation = self.context.spec.find_operation("GET", relative) if relative else None
        response, exchange = send(
            self.context.client,
            "GET",
            url,
            headers=headers,
            timeout=self.config.timeout,
            max_body_bytes=self.config.max_body_bytes,
            operation_id=operation.operation_id if operation else None,
        )
        self.case.exchanges.append(exchange)
        return response, len(self.case.exchanges) - 1

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
        drc = self.require_drc(data.get("on_drc", "first"))
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
            fields = ("method", "status", "body", "delay", "drop", "count")
            rule = {k: data[k] for k in fields if k in data}
            rule["path"] = documents_path(str(data["path"]))
            result = drc.add_fault(rule)
        elif action == "clear_faults":
            drc.clear_faults()
        elif action == "remove_mirrors":
            result = drc.remove_mirrors(_mirror_filter(data))
        elif action == "find_mirrors":
            wanted = _mirror_filter(data)
            result = [m for m in drc.mirrors() if all(m.get(k) == v for k, v in wanted.items())]
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
        for entry in checks.DRC_CHECKS:
            if entry.key not in expect:
                continue
            value = expect[entry.key]
            attempts = POSITIVE_DRC_RETRIES if entry.eventually(value) else 1
            patience = entry.patience(value) if entry.patience is not None else 0.0
            deadline = time.monotonic() + patience
            attempt = 0
            while True:
                view = checks.DrcView(drc, since, others, self.kic_relations)
                result = entry.check(view, value, level)
                attempt += 1
                if result.passed or (attempt >= attempts and time.monotonic() >= deadline):
                    break
                time.sleep(POSITIVE_DRC_PAUSE)
            self.add(result, step)

    def kic_relations(self, verzoek: str) -> tuple[list[Any] | None, str | None]:
        """The KIC's verzoekinformatieobjecten of ``verzoek``, as the main client lists them
        (recorded as an exchange of the case); or None and why not."""
        url = f"{self.config.target}/verzoekinformatieobjecten?verzoek={quote(verzoek, safe='')}"
        followed = self.follow(url)
        if followed is None:
            return None, f"cannot list {url}"
        response, _ = followed
        if response.status != 200:
            return None, f"the KIC answered {response.status or response.error} to GET {url}"
        parsed, body = response.json()
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            body = body["results"]
        if not parsed or not isinstance(body, list):
            return None, f"the KIC's answer to GET {url} is not a JSON list"
        return body, None

    def require_drc(self, which: str = "first") -> DrcControl:
        if self.context.drc is None:
            raise MissingCapability("drc")
        if which == "second":
            if self.context.second_drc is None:
                raise MissingCapability("second-drc")
            return self.context.second_drc
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

    def mentioned_urls(self) -> list[str]:
        """The URLs this scenario saved (its documents, verzoeken, relations ...); the API
        roots are left out, since every scenario's requests mention them."""
        return [
            value
            for name, value in self.variables.items()
            if name not in BUILTIN_VARS
            and isinstance(value, str)
            and value.startswith(("http://", "https://"))
        ][:MAX_MENTIONS]

    def collect_drc_journal(self) -> None:
        """Keep the DRC's journal entries about this scenario's objects (correlated by the
        URLs it saved, not by time), with the call-backs the DRC made and the KIC's answers."""
        drc = self.context.drc
        urls = self.mentioned_urls()
        if drc is None or not urls or not self.uses_drc():
            return
        second = self.context.second_drc
        try:
            entries = drc.journal(since=self.journal_start, mentions=urls)
            if second is not None:
                # The second DRC's entries say so: their ids are its own.
                entries += [
                    {**entry, "drc": "second"}
                    for entry in second.journal(since=self.second_journal_start, mentions=urls)
                ]
        except DrcControlError as exc:
            self.case.drc_journal = [{"error": f"the DRC journal could not be read: {exc}"}]
            return
        names = {url: name for name, url in self.variables.items() if url in urls}
        kept = []
        for entry in entries:
            kept_entry = {k: entry.get(k) for k in (*JOURNAL_FIELDS, "drc") if k in entry}
            kept_entry["about"] = _named(
                names,
                entry.get("path"),
                entry.get("query"),
                entry.get("body"),
                entry.get("resource"),
            )
            for callback in kept_entry.get("callbacks") or []:
                callback["about"] = _named(names, callback.get("url"))
            kept.append(kept_entry)
        self.case.drc_journal = kept

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


def _mirror_filter(data: dict[str, Any]) -> dict[str, Any]:
    """The ``object`` / ``informatieobject`` a ``remove_mirrors`` or ``find_mirrors`` step names."""
    return {k: data[k] for k in ("object", "informatieobject") if k in data}


def _named(names: dict[str, str], *parts: Any) -> list[str]:
    """The scenario variables (``doc``, ``verzoek``) whose URL occurs in ``parts``, as they
    are or URL-encoded (a call-back's query), so a journal entry says what it was about."""
    text = json.dumps(parts, default=str)
    return [name for url, name in names.items() if url in text or quote(url, safe="") in text]


def run_scenario(scenario: Scenario, context: RunContext) -> CaseResult:
    """Run one scenario and return its result; never raises.

    The ``finally:`` steps always run after the steps; their failed checks are marked
    ``cleanup`` and reported as cleanup problems, outside the case's outcome.
    """
    case = _ScenarioRun(scenario, context).execute()
    case.reproduce = context.config.reproduce_command(scenario.id)
    return case
