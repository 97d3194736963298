"""The whole conformance run, the same for the CLI and the pytest plugin.

:func:`run` goes plan -> pre-flight -> scenarios -> fuzz phase and returns a
:class:`~harness.results.RunResult`:

- :func:`plan` loads the spec and the scenario library and applies the selection; a selection
  that leaves nothing is a run that cannot go on (:func:`empty_selection`);
- :func:`check_before_run` (the pre-flight) makes sure the settings are right before any
  scenario runs: the DRC URLs are no API URLs of a DRC, the target answers JSON at its API
  root and to an authenticated list for the main client, the narrow client may read but not
  write, the mock DRC (and a second one, when given) answers its control API and the KIC
  accepts the DRC's call-back client. Each problem is one or two lines naming the option to
  fix; it also reads how the DRCs were started, for the run's :class:`RunMode`;
- :func:`run_scenarios` runs them in threads, each through :func:`harness.runner.run_scenario`
  inside its :meth:`~harness.scheduling.DrcTurns.turn`, those that need the DRC alone last
  (:mod:`harness.scheduling`), stopping early after ``max_failures`` cases that count against
  conformance; a failed call-back scenario is explained by the DRC's journal when its
  call-back into the KIC failed (:class:`CallbackDoctor`);
- :func:`fuzz_phase` runs :func:`harness.fuzz.run_fuzz`, recording clearly when it cannot.

Ctrl-C (KeyboardInterrupt) during the run ends it with the cases that finished and
``interrupted`` set; :class:`Terminated` (SIGTERM, raised by the CLI's handler) likewise, with
``terminated`` set too. The pytest plugin runs the same pre-flight once and each item the same way
(turn, :func:`~harness.runner.run_scenario`, the doctor), its fuzz items through
:func:`fuzz_phase`. Problems of the run itself set ``aborted``; target misbehaviour becomes
failed checks; nothing raises.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import RunConfig, Selection
from harness.drc_control import DrcControlError, api_url_problem
from harness.fuzz import run_fuzz
from harness.results import CaseResult, CheckResult, Level, Outcome, RunMode, RunResult
from harness.runner import RunContext, run_scenario
from harness.scenarios import Scenario, ScenarioError, load_library
from harness.scheduling import DrcTurns, calls_back, split
from harness.spec import Spec, SpecError, load_spec
from harness.transport import Response, send, tls_problem
from zgw.jwt import bearer

#: Called with (phase: "scenarios" or "fuzz", the case just finished or None at the start of
#: the phase, cases done, cases in the phase).
Progress = Callable[[str, CaseResult | None, int, int], None]
#: How often :func:`wait_for_target` asks a target that does not answer yet.
WAIT_PAUSE = 0.5
#: The DRC's call-back outcomes that mean it got no usable answer from the KIC.
FAILED_CALLBACKS = frozenset({"unreachable", "client-error", "server-error", "invalid-response"})


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by a front end's SIGTERM handler (CI cancelling a job,
    ``docker stop``): the run ends like on Ctrl-C, with what finished, marked terminated."""


@dataclass
class Plan:
    """What a run will do: the contract and the selected scenarios (library order, which is
    the order of the reports; :func:`~harness.scheduling.in_run_order` is the running order).
    ``available`` counts the scenarios before the selection."""

    spec: Spec
    scenarios: list[Scenario]
    available: int = 0


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
    return Plan(spec, [s for s in library if chosen.selects(s)], len(library))


def empty_selection(planned: Plan, config: RunConfig) -> str | None:
    """Why a plan without scenarios cannot run (None when it has some)."""
    if planned.scenarios:
        return None
    if planned.available == 0:
        where = ", ".join(str(p) for p in config.scenario_paths or []) or "the library"
        return f"no scenarios in {where}: check {config.option('scenarios')}"
    chosen = "; ".join(f"{k}: {', '.join(v)}" for k, v in config.selection.describe().items())
    return f"no scenario matches the selection ({chosen}); see kic-conformance list"


# -- pre-flight -------------------------------------------------------------------------------


@dataclass
class Preflight:
    """What the checks before the run found: a problem (None: all good) and how the mock DRC
    was started (its ``/_mock/state`` config; empty without a DRC or when it did not say)."""

    problem: str | None = None
    drc_settings: dict[str, Any] = field(default_factory=dict)


def _get(context: RunContext, url: str, authorization: str | None) -> Response:
    headers = {"Accept": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    response, _ = send(
        context.client,
        "GET",
        url,
        headers=headers,
        timeout=context.config.timeout,
        max_body_bytes=2_000_000,
    )
    return response


def wait_for_target(context: RunContext, seconds: float) -> None:
    """Return once the target's API root answers anything over HTTP, or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    root = context.config.target + "/"
    while True:
        response = _get(context, root, None)
        if response.status is not None or tls_problem(response.error):
            return
        if time.monotonic() + WAIT_PAUSE >= deadline:
            return
        time.sleep(WAIT_PAUSE)


def _answer_problem(response: Response, what: str, config: RunConfig) -> str | None:
    """The problem with an answer that should be the KIC's JSON, for any status: no answer,
    an untrusted certificate, a redirect, an HTML page, a 2xx without JSON."""
    target = config.option("target")
    if response.status is None:
        if tls_problem(response.error):
            return (
                f"the TLS certificate of {config.target} is not trusted ({response.error})\n"
                f"give {config.option('tls-ca-bundle')} FILE with its CA certificate (or set "
                f"SSL_CERT_FILE), or {config.option('insecure')} for a trial run"
            )
        return (
            f"{what}: no answer ({response.error})\n"
            f"check {target} (and {config.option('wait-for-target')} SECONDS for a KIC still "
            "starting)"
        )
    status = response.status
    if 300 <= status < 400:
        location = response.header("Location") or "nowhere"
        return (
            f"{what} answered {status}, a redirect to {location} (a login page?)\n"
            f"check {target}: the KIC's API root, which answers without redirects"
        )
    content_type = (response.header("Content-Type") or "").lower()
    looks_html = response.body.lstrip()[:1] == b"<"
    if "html" in content_type or looks_html:
        return (
            f"{what} answered {status} with an HTML page, not JSON (a login page or another "
            f"site?)\ncheck {target}: the KIC's API root, e.g. https://kic.example.nl/api/v1"
        )
    if 200 <= status < 300 and not response.json()[0]:
        return (
            f"{what} answered {status} without a JSON body\n"
            f"check {target}: the KIC's API root, e.g. https://kic.example.nl/api/v1"
        )
    return None


def _refused(response: Response) -> bool:
    return response.status in (401, 403)


def _check_target(context: RunContext) -> str | None:
    """The API root and an authenticated list for the main client answer JSON."""
    config = context.config
    root = config.target + "/"
    problem = _answer_problem(_get(context, root, None), f"GET {root}", config)
    if problem:
        return problem
    listing = f"{config.target}/klanten"
    response = _get(context, listing, config.authorization())
    problem = _answer_problem(response, f"GET {listing}", config)
    if problem:
        return problem
    if response.status == 404:
        return (
            f"GET {listing} answered 404: no KIC API under {config.target}\n"
            f"check the base path of {config.option('target')} (the API root, e.g. "
            "https://kic.example.nl/api/v1)"
        )
    if _refused(response):
        return (
            f"the KIC refused the main client {config.client_id!r}: GET {listing} answered "
            f"{response.status}\ncheck {config.option('client-id')} and "
            f"{config.option('secret')} (that client needs the four klanten scopes)"
        )
    if response.status == 400:
        # A plain list has nothing to be invalid; a 400 here is the set-up (most often the
        # Host: Django's ALLOWED_HOSTS, the reference KIC's host-not-allowed), and every
        # scenario would fail on it.
        return (
            f"GET {listing} answered 400{_error_code(response)} to a plain list of the main "
            f"client\ncheck {config.option('target')}: a KIC reached by a name it does not "
            "know as its own (a service name, a proxy) refuses that Host (Django: "
            "ALLOWED_HOSTS; the reference KIC: --public-base-url or --allowed-host)"
        )
    return None


def _error_code(response: Response) -> str:
    """`` (code: detail)`` of a Fout body, or nothing."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return ""
    if not isinstance(body, dict) or not body.get("code"):
        return ""
    detail = str(body.get("detail") or "").strip()
    return f" ({body['code']}: {detail[:200]})" if detail else f" ({body['code']})"


#: What the pre-flight asks the narrow client to create: a klant a KIC must refuse it.
_PREFLIGHT_KLANT = {
    "achternaam": "kic-conformance pre-flight",
    "subjectType": "natuurlijk_persoon",
    "subject": "https://personen.example.com/kic-conformance-pre-flight",
}


def _check_narrow_client(context: RunContext) -> str | None:
    """The narrow client may list klanten and may not create one (one created anyway is
    deleted again with the main client)."""
    config = context.config
    if config.narrow_client is None:
        return None
    narrow_id = config.narrow_client[0]
    token = config.authorization({"client": "narrow"})
    listing = f"{config.target}/klanten"
    response = _get(context, listing, token)
    names = f"{config.option('narrow-client-id')} and {config.option('narrow-secret')}"
    if _refused(response):
        return (
            f"the KIC refused the narrow client {narrow_id!r} a read: GET {listing} answered "
            f"{response.status}\ncheck {names} (that client needs klanten.lezen)"
        )
    body = dict(_PREFLIGHT_KLANT, voornaam=uuid.uuid4().hex[:12])
    created, _ = send(
        context.client,
        "POST",
        listing,
        headers={
            "Authorization": token or "",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        content=json.dumps(body).encode(),
        timeout=config.timeout,
    )
    if created.status is None or not 200 <= created.status < 300:
        return None  # refused (or failed otherwise: the scope scenarios judge that)
    _delete_created(context, created, listing)
    return (
        f"the narrow client {narrow_id!r} was allowed to create a klant (POST {listing} "
        f"answered {created.status}; deleted again)\ngive {config.option('narrow-client-id')} "
        "a client with only klanten.lezen; if it has only that scope, your KIC does not "
        "enforce scopes"
    )


def _delete_created(context: RunContext, created: Response, collection: str) -> None:
    ok, body = created.json()
    url = body.get("url") if ok and isinstance(body, dict) else None
    url = url or created.header("Location")
    if not isinstance(url, str) or not url.startswith(collection):
        return
    send(
        context.client,
        "DELETE",
        url,
        headers={"Authorization": context.config.authorization() or ""},
        timeout=context.config.timeout,
    )


def _check_drc(context: RunContext) -> tuple[str | None, dict[str, Any]]:
    """The DRC's control API answers; its settings; the KIC accepts its call-back client."""
    config = context.config
    if context.drc is None:
        return None, {}
    try:
        settings = context.drc.settings()
    except DrcControlError as exc:
        return f"{exc}\ncheck {config.option('drc-url')}", {}
    callback = config.drc_callback_client
    if not settings.get("strict", True) or callback is None:
        return None, settings
    ours, theirs = callback[0], settings.get("callbackClientId")
    flag = config.option("drc-callback-client")
    if theirs and theirs != ours:
        return (
            f"the mock DRC at {config.drc_url} calls your KIC back as {theirs!r}, but {flag} "
            f"names {ours!r}\ngive {flag} {theirs}:SECRET (the DRC's --callback-client)"
        ), settings
    verzoek = f"{config.target}/verzoeken/{uuid.uuid4()}"
    document = f"{context.drc.documents_root}/enkelvoudiginformatieobjecten/{uuid.uuid4()}"
    url = f"{config.target}/verzoekinformatieobjecten?verzoek={verzoek}&informatieobject={document}"
    response = _get(context, url, bearer(*callback))
    if _refused(response):
        return (
            f"the KIC refused the DRC's call-back client {ours!r}: GET "
            f"{config.target}/verzoekinformatieobjecten?verzoek=... answered {response.status}\n"
            f"give {ours!r} klanten.lezen in your KIC, or {flag} ID:SECRET with the client your "
            "KIC accepts for the DRC"
        ), settings
    return None, settings


def _check_second_drc(
    context: RunContext, first: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """The second DRC's control API answers; the settings of both DRCs as one (the run is
    only as strict as the laxer of them)."""
    second = context.second_drc
    if second is None:
        return None, first
    try:
        settings = second.settings()
    except DrcControlError as exc:
        return f"{exc}\ncheck {context.config.option('second-drc-url')}", first
    return None, _combined(first, settings)


def _combined(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    combined = dict(first)
    if "strict" in first or "strict" in second:
        combined["strict"] = bool(first.get("strict", True)) and bool(second.get("strict", True))
    if "acceptAnyToken" in first or "acceptAnyToken" in second:
        combined["acceptAnyToken"] = bool(first.get("acceptAnyToken")) or bool(
            second.get("acceptAnyToken")
        )
    return combined


def _check_drc_urls(config: RunConfig) -> str | None:
    """The DRC URLs are mock DRC base URLs, not one of their APIs (asks nothing)."""
    for name, url in (("drc-url", config.drc_url), ("second-drc-url", config.second_drc_url)):
        problem = api_url_problem(url) if url else None
        if problem:
            return f"{config.option(name)}: {problem}"
    return None


def check_before_run(context: RunContext) -> Preflight:
    """The pre-flight: every check above in order; the first problem ends it."""
    config = context.config
    problem = _check_drc_urls(config)
    if problem:
        return Preflight(problem)
    if config.wait_for_target > 0:
        wait_for_target(context, config.wait_for_target)
    problem = _check_target(context)
    if problem:
        return Preflight(problem, _drc_settings(context))
    problem, settings = _check_drc(context)
    if problem:
        return Preflight(problem, settings)
    problem, settings = _check_second_drc(context, settings)
    if problem:
        return Preflight(problem, settings)
    return Preflight(_check_narrow_client(context), settings)


def _drc_settings(context: RunContext) -> dict[str, Any]:
    """How the run's DRCs were started (both as one: :func:`_combined`); empty when unknown."""
    settings: dict[str, Any] = {}
    try:
        if context.drc is not None:
            settings = context.drc.settings()
        if context.second_drc is not None:
            settings = _combined(settings, context.second_drc.settings())
    except DrcControlError:
        return settings
    return settings


def run_mode(
    config: RunConfig, drc_settings: dict[str, Any], *, given: bool, preflight: bool
) -> RunMode:
    """The :class:`RunMode` of a run with ``config`` and a DRC started as ``drc_settings``
    says (``given``: the scenarios were handed over, not loaded)."""
    drc = "none"
    if config.drc_url:
        drc = "unknown"
        if "strict" in drc_settings:
            drc = "strict" if drc_settings["strict"] else "lenient"
    if given:
        scenarios = "given"
    elif config.scenario_paths:
        scenarios = ", ".join(str(p) for p in config.scenario_paths)
    else:
        scenarios = "built-in"
    return RunMode(
        drc=drc,
        drc_checks_tokens=bool(config.drc_url) and not drc_settings.get("acceptAnyToken", True),
        narrow_client=config.narrow_client is not None,
        scenarios=scenarios,
        contract=str(config.spec_path) if config.spec_path else "built-in",
        selection=config.selection.describe(),
        fuzz_examples=config.fuzz_examples,
        fuzz_seed=config.fuzz_seed,
        max_failures=config.max_failures,
        preflight=preflight,
        tls_insecure=config.tls_insecure,
    )


# -- call-back diagnosis ------------------------------------------------------------------------


class CallbackDoctor:
    """Explains a failed call-back scenario by the DRC's side: when the DRC's call-back into
    the KIC during one of its requests got no usable answer, the case gets a failed check that
    says so and what to change.

    The DRC journals a request when it is done, so after a timed-out step the doctor waits
    (at most the DRC's own call-back deadline) until the entry is there.
    """

    def __init__(self, context: RunContext) -> None:
        self.context = context

    def examine(self, scenario: Scenario, case: CaseResult) -> None:
        drc = self.context.drc
        if drc is None or not calls_back(scenario):
            return
        if case.outcome not in (Outcome.FAILED, Outcome.ERROR):
            return
        mentioned = _urls_sent(case)
        if not mentioned:
            return
        timed_out = [i for i, e in enumerate(case.exchanges) if _timed_out(e.error)]
        try:
            failed = self._failed_callbacks(mentioned, wait=bool(timed_out))
        except DrcControlError:
            return
        if failed:
            at = timed_out[0] if timed_out else _last_failed_exchange(case)
            case.checks.append(self._explain(failed[-1], at))

    def _failed_callbacks(self, mentioned: list[str], wait: bool) -> list[dict[str, Any]]:
        drc = self.context.drc
        assert drc is not None
        limit = 0.0
        if wait:
            settings = drc.settings()
            limit = float(settings.get("callbackTimeout") or self.context.config.timeout) + 2
        deadline = time.monotonic() + limit
        while True:
            entries = drc.journal(mentions=mentioned[:20])
            failed = [
                callback
                for entry in entries
                for callback in entry.get("callbacks") or []
                if callback.get("outcome") in FAILED_CALLBACKS
                or (wait and self._waited_long(callback))
            ]
            if failed or time.monotonic() >= deadline:
                return failed
            time.sleep(WAIT_PAUSE)

    def _waited_long(self, callback: dict[str, Any]) -> bool:
        """A call-back answered, but only after half the harness's timeout or more: it waited
        for a free worker while a step of the scenario timed out."""
        elapsed = callback.get("elapsed_ms") or 0
        return elapsed >= self.context.config.timeout * 1000 / 2

    def _explain(self, callback: dict[str, Any], exchange_index: int | None) -> CheckResult:
        config = self.context.config
        outcome = callback.get("outcome")
        what = callback.get("error") or f"status {callback.get('status')}"
        message = (
            f"the mock DRC's call-back into your KIC ({callback.get('url')}) failed: {outcome}, "
            f"{what}, after {callback.get('elapsed_ms')} ms"
        )
        if outcome not in FAILED_CALLBACKS:
            message = (
                f"the mock DRC's call-back into your KIC ({callback.get('url')}) was answered "
                f"only after {callback.get('elapsed_ms')} ms, while a step timed out"
            )
        if outcome == "unreachable" or outcome not in FAILED_CALLBACKS:
            message += (
                ". This looks like call-back starvation: a kic-001 write holds a worker (or "
                "thread) of your KIC while the DRC calls your KIC back, and the call-back "
                "waits for a free one. Serve your KIC with more threads per worker (a worker "
                "that accepts the call-back while its only thread is busy queues it behind "
                "the write) or more workers, and run fewer scenarios at once "
                f"({config.option('workers')} 1)"
            )
        elif outcome == "client-error":
            message += (
                f". Your KIC must accept the DRC's call-back client "
                f"({config.option('drc-callback-client')}) with klanten.lezen"
            )
        return CheckResult(
            name="drc call-back",
            passed=False,
            level=Level.MUST,
            message=message,
            expected="the KIC answers the DRC's call-back with its relations",
            actual={k: callback.get(k) for k in ("url", "status", "outcome", "error")},
            exchange_index=exchange_index,
        )


def _timed_out(error: str | None) -> bool:
    return bool(error) and str(error).startswith("timeout")


def _last_failed_exchange(case: CaseResult) -> int | None:
    indexes = [c.exchange_index for c in case.failed_checks() if c.exchange_index is not None]
    return indexes[-1] if indexes else None


def _urls_sent(case: CaseResult) -> list[str]:
    """The absolute URLs in the JSON bodies the scenario sent (verzoeken, documents): what
    the DRC's journal entries of this scenario mention."""
    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for exchange in case.exchanges:
        if exchange.request_body:
            try:
                collect(json.loads(exchange.request_body))
            except ValueError:
                continue
    return list(dict.fromkeys(found))


# -- the phases --------------------------------------------------------------------------------


def run_scenarios(
    scenarios: Sequence[Scenario],
    context: RunContext,
    turns: DrcTurns,
    progress: Progress | None = None,
    *,
    stop: threading.Event | None = None,
    finished: dict[str, CaseResult] | None = None,
) -> list[CaseResult]:
    """Run planned scenarios: those sharing the DRC in ``config.workers`` threads, then the
    run-alone ones one by one; the cases come back in the order of ``scenarios``.

    After ``config.max_failures`` cases that count against conformance (failed, precondition
    failed, error: :attr:`~harness.results.Outcome.counts_against`) ``stop`` is set and no
    further scenario starts; scenarios already running in other threads still finish, so a
    parallel run may end with a few more such cases than the limit.
    ``finished`` (by scenario id) holds every case as soon as it is done, so a caller
    interrupted by Ctrl-C still has them.
    """
    total = len(scenarios)
    cases: dict[str, CaseResult] = {} if finished is None else finished
    stop = stop or threading.Event()
    lock = threading.Lock()
    doctor = CallbackDoctor(context)
    failures = 0
    limit = context.config.max_failures
    if progress:
        progress("scenarios", None, 0, total)

    def one(scenario: Scenario) -> None:
        nonlocal failures
        if stop.is_set():
            return
        with turns.turn(scenario):
            if stop.is_set():  # stopped while this one waited for its turn
                return
            case = run_scenario(scenario, context)
        doctor.examine(scenario, case)
        with lock:
            cases[scenario.id] = case
            if case.outcome.counts_against:
                failures += 1
                if limit and failures >= limit:
                    stop.set()
            if progress:
                progress("scenarios", case, len(cases), total)

    shared, alone = split(scenarios)
    pool = ThreadPoolExecutor(max_workers=max(1, context.config.workers))
    try:
        for future in [pool.submit(one, s) for s in shared]:
            future.result()
        for scenario in alone:
            one(scenario)
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [cases[s.id] for s in scenarios if s.id in cases]


def fuzz_phase(context: RunContext, result: RunResult, progress: Progress | None = None) -> None:
    """Fuzz the selected operations into ``result``; a failure of the phase itself is one
    error case ``fuzz``, never an exception (Ctrl-C excepted)."""

    def fuzz_progress(case: CaseResult | None, done: int, total: int) -> None:
        if progress:
            progress("fuzz", case, done, total)

    try:
        run_fuzz(context.config, result, drc=context.drc, progress=fuzz_progress)
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
    config: RunConfig,
    *,
    scenarios: list[Scenario] | None = None,
    progress: Progress | None = None,
    preflight: bool = True,
) -> RunResult:
    """Run the selected scenarios (then the fuzzer) against ``config.target``.

    ``preflight=False`` skips the checks before the run (the harness's own tests use it to
    show that a scenario catches what the pre-flight would catch first); the run's mode then
    records it, so such a run is never CONFORMANT.
    """
    result = RunResult(
        target=config.target,
        started_at=_now(),
        fuzz_seed=config.fuzz_seed,
        settings=config.describe(),
    )
    try:
        _run(config, result, scenarios, progress, preflight)
    finally:
        result.finished_at = _now()
    return result


def _run(
    config: RunConfig,
    result: RunResult,
    scenarios: list[Scenario] | None,
    progress: Progress | None,
    preflight: bool,
) -> None:
    planned = _plan_into(config, result, scenarios)
    if planned is None:
        return
    try:
        context = RunContext.create(config, planned.spec)
    except ValueError as exc:  # an unreadable CA bundle
        result.aborted = f"{exc}\ncheck {config.option('tls-ca-bundle')}"
        return
    try:
        _run_planned(
            context, planned, result, progress, given=scenarios is not None, preflight=preflight
        )
    finally:
        context.close()


def _plan_into(
    config: RunConfig, result: RunResult, scenarios: list[Scenario] | None
) -> Plan | None:
    """The run's :class:`Plan`, its contract recorded in ``result``; None (``aborted`` set)
    when the spec or the scenarios cannot be read or the selection leaves nothing."""
    try:
        planned = plan(
            spec_path=config.spec_path,
            scenario_paths=config.scenario_paths,
            selection=config.selection,
            scenarios=scenarios,
        )
    except (SpecError, ScenarioError) as exc:
        result.aborted = str(exc)
        return None
    result.spec_version = planned.spec.version
    result.documented_statuses = planned.spec.documented_statuses()
    result.aborted = empty_selection(planned, config)
    return None if result.aborted else planned


def _run_planned(
    context: RunContext,
    planned: Plan,
    result: RunResult,
    progress: Progress | None,
    *,
    given: bool,
    preflight: bool,
) -> None:
    """Pre-flight, scenarios, fuzz phase into ``result``; Ctrl-C keeps what finished."""
    config = context.config
    finished: dict[str, CaseResult] = {}
    in_fuzz_phase = False
    try:
        checked = (
            check_before_run(context) if preflight else Preflight(None, _drc_settings(context))
        )
        result.mode = run_mode(config, checked.drc_settings, given=given, preflight=preflight)
        if checked.problem:
            result.aborted = checked.problem
            return
        stop = threading.Event()
        result.cases = run_scenarios(
            planned.scenarios,
            context,
            DrcTurns(config.drc_url),
            progress,
            stop=stop,
            finished=finished,
        )
        _record_statuses(result)
        if stop.is_set():
            result.stopped = _stopped_note(config, len(result.cases), len(planned.scenarios))
        elif config.fuzz_examples > 0:
            in_fuzz_phase = True
            fuzz_phase(context, result, progress)  # records the statuses it observes itself
    except KeyboardInterrupt as exc:  # Terminated (SIGTERM) included
        _interrupted(result, planned, finished, in_fuzz_phase, isinstance(exc, Terminated))


def _interrupted(
    result: RunResult,
    planned: Plan,
    finished: dict[str, CaseResult],
    in_fuzz_phase: bool,
    terminated: bool,
) -> None:
    """Mark ``result`` interrupted, with the scenarios that finished before it."""
    result.interrupted = True
    result.terminated = terminated
    if not in_fuzz_phase:
        result.cases = [finished[s.id] for s in planned.scenarios if s.id in finished]
        _record_statuses(result)
    done = sum(1 for c in result.cases if c.kind == "scenario")
    how = "terminated (SIGTERM)" if terminated else "interrupted"
    result.stopped = f"{how} after {done} of {len(planned.scenarios)} scenarios" + (
        " and part of the fuzz phase" if in_fuzz_phase else ""
    )


def _record_statuses(result: RunResult) -> None:
    for case in result.cases:
        for exchange in case.exchanges:
            result.record_status(exchange.operation_id, exchange.status)


def _stopped_note(config: RunConfig, done: int, planned: int) -> str:
    return (
        f"stopped after {config.max_failures} failed cases "
        f"({config.option('max-failures')} {config.max_failures}): {planned - done} of "
        f"{planned} scenarios not run, no fuzzing"
    )
