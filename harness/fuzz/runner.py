"""The fuzz phase: schemathesis-generated requests for every operation, as harness results.

For each of the spec's operations, Hypothesis draws ``fuzz_examples`` valid cases and
``fuzz_examples`` invalid cases from schemathesis's strategies (:mod:`.generation`: the seed
alone decides them, no shrinking, no example database), :mod:`.constraints` points them at
existing objects, the request goes out with the harness's ZGW JWT (through :mod:`.wire`, so the
run's timeout bounds each request as a whole), every status is recorded for the coverage report,
and :mod:`.checks` judges the exchange. Each operation becomes one :class:`CaseResult`
(``fuzz:<operationId>``) with one :class:`CheckResult` per check, or per kind of failure of a
check, the first failing exchange of each kind and a curl line that replays it. The run's
:class:`~harness.config.RunConfig` says everything else: the spec, the token
(:meth:`~harness.config.RunConfig.authorization`), the timeout, the examples and the seed; the
mock DRC is reached through :class:`~harness.drc_control.DrcControl`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import requests
import schemathesis
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode, Response
from schemathesis.core.parameters import ParameterLocation

from harness.config import DEFAULT_FUZZ_SEED, RunConfig, Selection
from harness.drc_control import DrcControl, DrcControlError
from harness.results import CaseResult, CheckResult, Exchange, Level, RunResult
from harness.spec import Spec, load_spec, spec_file
from harness.transport import new_client

from . import checks as fuzz_checks
from .constraints import Target, is_positive, shape_case
from .generation import Draw, generate
from .reproduce import curl_command, reproduction
from .wire import deadline_session
from .world import ZAAK_LINK_LISTS, FuzzWorld

log = logging.getLogger(__name__)

#: The seed used when the run configures none.
DEFAULT_SEED = DEFAULT_FUZZ_SEED
#: Response bodies kept in a recorded exchange, in characters.
MAX_BODY_CHARS = 4000


class TargetUnreachable(Exception):
    """A request of the fuzz phase got no HTTP answer at all."""


def spec_path(config: RunConfig) -> Path:
    """The spec the run fuzzes: :func:`harness.spec.spec_file` of ``config.spec_path``."""
    return spec_file(config.spec_path)


def load_schema(path: Path) -> schemathesis.BaseSchema:
    """Load ``path`` with a fresh schemathesis configuration (no config file discovery).

    Security parameters are not generated: every request carries the harness's own token,
    and authentication is what the scenarios test, not the fuzz phase. Responses are judged
    by :mod:`.checks` against :class:`harness.spec.Spec`, not by schemathesis's validators.
    """
    schema = schemathesis.openapi.from_path(str(path), config=schemathesis.Config())
    schema.config.generation.update(with_security_parameters=False)
    return schema


def operation_id(operation: APIOperation) -> str:
    return str(operation.definition.raw["operationId"])


def operations(
    schema: schemathesis.BaseSchema, selection: Selection | None = None
) -> list[APIOperation]:
    """The spec's operations in document order, narrowed by the run's operation selection.

    ``selection.operations`` (when not empty) keeps only those operationIds and
    ``selection.exclude_operations`` drops some; tag and id selections are about scenarios and
    leave the fuzz phase whole.
    """
    chosen = selection or Selection()
    wanted, unwanted = set(chosen.operations), set(chosen.exclude_operations)
    found = [result.ok() for result in schema.get_all_operations()]
    return [
        op
        for op in found
        if (not wanted or operation_id(op) in wanted) and operation_id(op) not in unwanted
    ]


@dataclass
class FindingRecord:
    """One kind of failure of one check on an operation: first occurrence and the number of
    requests it was found in."""

    finding: CheckResult
    exchange_index: int
    curl: str
    count: int = 1


@dataclass
class OperationFuzzer:
    """Fuzzes one operation and builds its :class:`CaseResult`."""

    operation: APIOperation
    world: FuzzWorld
    session: requests.Session
    base_url: str
    authorization: Callable[[], str]
    record_status: Callable[[str, int | None], None]
    examples: int
    seed: int
    timeout: float
    client_id: str
    spec: Spec
    target: Target = field(init=False)
    findings: dict[tuple[str, str], FindingRecord] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=lambda: {"positive": 0, "negative": 0})
    notes: list[str] = field(default_factory=list)
    unreachable: bool = False

    def __post_init__(self) -> None:
        op_id = operation_id(self.operation)
        self.target = Target.of(op_id, self.operation.path)

    def run(self) -> CaseResult:
        started = time.perf_counter()
        error = None
        try:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._run_mode(mode)
        except TargetUnreachable as exc:
            error = f"the target did not answer: {exc}"
            self.unreachable = True
        except DrcControlError as exc:
            error = f"the mock DRC did not answer a set-up request: {exc}"
        except Exception as exc:  # a harness or generation bug must not end the whole phase
            log.exception("fuzzing %s failed", self.target.operation_id)
            error = f"fuzzing failed: {type(exc).__name__}: {exc}"
        return self._result(time.perf_counter() - started, error)

    def _run_mode(self, mode: GenerationMode) -> None:
        def each(case: Case, draw: Draw) -> None:
            shape_case(case, self.target, self.world, draw)
            self._exchange(case, mode)

        try:
            generate(self.operation.as_strategy(mode), self.examples, self.seed, each)
        except Unsatisfiable:
            self.notes.append(f"no {mode.value} case can be generated for this operation")

    def _exchange(self, case: Case, mode: GenerationMode) -> None:
        headers = {"Authorization": self.authorization()}
        fault = None
        if (
            self.target.action == "delete"
            and self.target.collection in ZAAK_LINK_LISTS
            and is_positive(case, ParameterLocation.PATH)
        ):
            # The Zaken API must no longer list the relation, or a correct KIC refuses.
            fault = self.world.forget_zaak_link_once(self.target.collection)
        try:
            response = case.call(
                base_url=self.base_url,
                session=self.session,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            self.sent[mode.value] += 1  # sent, unanswered: the "n of total" counts include it
            self._add_timeout(case, headers, exc)
            return
        except requests.RequestException as exc:
            raise TargetUnreachable(
                f"{case.method} {case.formatted_path}: {type(exc).__name__}: {exc}"
            ) from None
        finally:
            self.world.remove_fault(fault)
        self.sent[mode.value] += 1
        self.record_status(self.target.operation_id, response.status_code)
        self._remember_created(response)
        exchanged = fuzz_checks.Exchanged(
            case, response, headers, self.spec, self.target.operation_id
        )
        kinds: set[tuple[str, str]] = set()
        for finding in fuzz_checks.run_checks(exchanged):
            key = (finding.name, finding.title)
            # A kind found at two places of one response (a list whose items share the blank)
            # is one request: the "n of total requests" counts requests, never places.
            if key not in kinds:
                kinds.add(key)
                self._add_finding(finding, response)

    def _remember_created(self, response: Response) -> None:
        if self.target.action == "create" and response.status_code == 201:
            try:
                url = response.json().get("url")
            except (ValueError, AttributeError):
                url = None
            if url:
                self.world.created.append(url)

    def _add_finding(self, finding: CheckResult, response: Response) -> None:
        key = (finding.name, finding.title)
        if key in self.findings:
            self.findings[key].count += 1
            return
        self.exchanges.append(exchange_of(response, self.target.operation_id))
        request = response.request
        curl = curl_command(
            str(request.method), str(request.url), dict(request.headers), request.body
        )
        self.findings[key] = FindingRecord(finding, len(self.exchanges) - 1, curl)

    def _add_timeout(self, case: Case, headers: dict[str, str], exc: Exception) -> None:
        """No answer in time: a failure of ``answers_in_time``; the phase goes on."""
        finding = fuzz_checks.failure(
            fuzz_checks.ANSWERS_IN_TIME,
            "No answer in time",
            f"No response within {self.timeout} s ({type(exc).__name__}).",
            expected=f"a response within {self.timeout} s",
        )
        key = (finding.name, finding.title)
        if key in self.findings:
            self.findings[key].count += 1
            return
        kwargs = case.as_transport_kwargs(base_url=self.base_url, headers=headers)
        request = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
        ).prepare()
        self.exchanges.append(
            Exchange(
                method=str(request.method),
                url=str(request.url),
                request_headers={k: str(v) for k, v in request.headers.items()},
                request_body=_text(request.body),
                error=f"timeout: {exc}",
                operation_id=self.target.operation_id,
            )
        )
        curl = curl_command(
            str(request.method), str(request.url), dict(request.headers), request.body
        )
        self.findings[key] = FindingRecord(finding, len(self.exchanges) - 1, curl)

    def _result(self, duration: float, error: str | None) -> CaseResult:
        op_id = self.target.operation_id
        total = self.sent["positive"] + self.sent["negative"]
        case = CaseResult(
            id=f"fuzz:{op_id}",
            title=(
                f"Fuzzing {self.operation.method.upper()} {self.operation.path}: "
                f"{self.sent['positive']} valid + {self.sent['negative']} invalid requests, "
                f"seed {self.seed}"
            ),
            rule=f"oas:{op_id}",
            level=Level.MUST,
            kind="fuzz",
            tags=["fuzz", self.target.collection],
            operations=[op_id],
            exchanges=self.exchanges,
            duration_s=round(duration, 3),
            error=error,
        )
        for name in fuzz_checks.ALL_CHECK_NAMES:
            records = [r for (check, _), r in self.findings.items() if check == name]
            if not records:
                case.checks.append(
                    CheckResult(name, True, Level.MUST, f"{total} exchanges checked")
                )
            for record in records:
                f = record.finding
                counted = f"{f.title} ({record.count} of {total} requests). {f.message}"
                case.checks.append(
                    dataclasses.replace(
                        f, message=counted.strip(), exchange_index=record.exchange_index
                    )
                )
        if self.findings:
            case.reproduce = reproduction(
                self.client_id,
                [(f"{r.finding.name}: {r.finding.title}", r.curl) for r in self.findings.values()],
            )
        if self.notes:
            case.title += f" ({'; '.join(self.notes)})"
        return case


def not_fuzzed(operation: APIOperation, seed: int, reason: str) -> CaseResult:
    """The case of an operation the phase could not get to (an error, not a pass)."""
    op_id = operation_id(operation)
    return CaseResult(
        id=f"fuzz:{op_id}",
        title=f"Fuzzing {operation.method.upper()} {operation.path}, seed {seed}",
        rule=f"oas:{op_id}",
        level=Level.MUST,
        kind="fuzz",
        tags=["fuzz", Target.of(op_id, operation.path).collection],
        operations=[op_id],
        error=reason,
    )


def _text(body: bytes | str | None) -> str | None:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def exchange_of(response: Response, operation_id: str) -> Exchange:
    """A harness :class:`Exchange` (Authorization masked) of a schemathesis response."""
    request = response.request
    body = _text(request.body)
    text = response.content.decode(response.encoding or "utf-8", errors="replace")
    return Exchange(
        method=str(request.method),
        url=str(request.url),
        request_headers={k: str(v) for k, v in request.headers.items()},
        request_body=body,
        status=response.status_code,
        response_headers={k: ", ".join(v) for k, v in response.headers.items()},
        response_body=text[:MAX_BODY_CHARS],
        elapsed_ms=round(response.elapsed * 1000, 1),
        operation_id=operation_id,
    )


@contextlib.contextmanager
def _fuzz_world(
    config: RunConfig, run_result: RunResult, drc: DrcControl | None
) -> Iterator[FuzzWorld]:
    """The world of the phase: a KIC client sending the run's token, the DRC, the pools."""

    class _Auth(httpx.Auth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            request.headers["Authorization"] = config.authorization() or ""
            yield request

    with contextlib.ExitStack() as stack:
        if drc is None and config.drc_url:
            drc = stack.enter_context(
                DrcControl(config.drc_url, config.timeout, config.ssl_context())
            )
        kic = stack.enter_context(
            new_client(config.timeout, config.target + "/", _Auth(), config.ssl_context())
        )
        world = FuzzWorld(kic, drc, on_status=run_result.record_status, timeout=config.timeout)
        try:
            yield world
        finally:
            world.cleanup()


def run_fuzz(
    config: RunConfig,
    run_result: RunResult,
    drc: DrcControl | None = None,
    progress: Callable[[CaseResult | None, int, int], None] | None = None,
) -> None:
    """Fuzz the selected operations of the spec against ``config.target``; one case each.

    Uses ``config``'s target, credentials, timeout, ``fuzz_examples``, ``fuzz_seed``, spec and
    operation selection; ``drc`` (else one made for ``config.drc_url``) supplies documents and
    zaken. Sets ``run_result.fuzz_seed`` and records every observed status with
    ``run_result.record_status``. ``progress`` is called with ``(None, 0, total)`` first and
    with ``(case, done, total)`` after each operation.
    """
    seed = config.fuzz_seed
    run_result.fuzz_seed = seed
    run_result.settings.setdefault("fuzz_examples", config.fuzz_examples)
    run_result.settings.setdefault("fuzz_seed", seed)
    schema = load_schema(spec_path(config))
    spec = load_spec(spec_path(config))
    with (
        _fuzz_world(config, run_result, drc) as world,
        deadline_session(config.timeout, config.ssl_context()) as session,
    ):
        gone: str | None = None
        try:
            world.build_pools()
        except DrcControlError as exc:
            gone = f"not fuzzed: the mock DRC did not answer a set-up request: {exc}"
        chosen = list(operations(schema, config.selection))
        if progress:
            progress(None, 0, len(chosen))
        for done, operation in enumerate(chosen, start=1):
            if gone is not None:
                run_result.cases.append(not_fuzzed(operation, seed, gone))
                if progress:
                    progress(run_result.cases[-1], done, len(chosen))
                continue
            fuzzer = OperationFuzzer(
                operation=operation,
                world=world,
                session=session,
                base_url=config.target,
                authorization=lambda: config.authorization() or "",
                record_status=run_result.record_status,
                examples=config.fuzz_examples,
                seed=seed,
                timeout=config.timeout,
                client_id=config.client_id,
                spec=spec,
            )
            run_result.cases.append(fuzzer.run())
            if progress:
                progress(run_result.cases[-1], done, len(chosen))
            if fuzzer.unreachable:
                gone = (
                    "not fuzzed: the target stopped answering during "
                    f"fuzz:{operation_id(operation)}"
                )
