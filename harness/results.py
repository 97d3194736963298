"""The one result model of a conformance run; every reporter is a consumer of this data.

A run is a list of :class:`CaseResult` (one per scenario or fuzzed operation). Each case holds
its checks (:class:`CheckResult`, each with a requirement level; scenario checks and fuzz checks
alike) and the HTTP exchanges that produced them (:class:`Exchange`, Authorization values
masked). :meth:`RunResult.to_dict` and :meth:`RunResult.from_dict` turn a run into JSON-ready
data and back. Verdicts are derived, never
stored: a failed ``must`` check makes the run NOT CONFORMANT, a failed ``should`` check is a
warning, a failed ``reference`` check "differs from the reference".

Scenario checks carry the index of their step and whether that step is *under test* (the
behaviour the scenario is about) or set-up. A must-level failure in a set-up step makes the
case *precondition failed*: it still counts against conformance, but the operations table
counts it against the operation that failed, not the one the scenario tests.
:meth:`RunResult.causes` groups every failure of a run into its distinct causes.
A run without failures is CONFORMANT only when it was complete: :class:`RunMode` records how
the run was set up (DRC strict or lenient, token checking, narrow client, selection, fuzzing,
TLS checking) and :attr:`RunResult.incomplete_reasons` names every gap (skips included); with
any, the verdict is ``NO FAILURES (incomplete: ...)``. :data:`VERDICT_EXIT_CODES` maps each verdict
state to the exit status of the command line.

Checks of a scenario's ``finally:`` steps carry ``cleanup=True`` and never change a case's
outcome or the verdict (the behaviour under test already passed or failed). A failed one that
says the cleanup did not happen (must level, the step's status, no response, a step that could
not run: :func:`is_cleanup_problem`) is a *cleanup problem*, which every report lists, because
a KIC that cannot clean up leaves data behind; a should- or reference-level finding about a
cleanup answer is not one.
"""

from __future__ import annotations

import enum
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any


class Level(str, enum.Enum):
    """How much a check counts (see DESIGN.md, "Requirement levels and verdicts")."""

    MUST = "must"
    SHOULD = "should"
    REFERENCE = "reference"


class Outcome(str, enum.Enum):
    """What one case came to; ordered from best to worst in :data:`OUTCOME_ORDER`."""

    PASSED = "passed"
    DIFFERS = "differs"  # only reference-level checks failed
    WARNING = "warning"  # a should-level check failed
    PRECONDITION_FAILED = "precondition failed"  # a must-level check of a set-up step failed
    FAILED = "failed"  # a must-level check of a step under test failed
    ERROR = "error"  # the case could not be run (target unreachable mid-run, harness bug)
    SKIPPED = "skipped"  # not applicable to this run; always carries a reason

    @property
    def counts_against(self) -> bool:
        """True for the outcomes that make a run NOT CONFORMANT."""
        return self in (Outcome.FAILED, Outcome.PRECONDITION_FAILED, Outcome.ERROR)


OUTCOME_ORDER = [
    Outcome.PASSED,
    Outcome.SKIPPED,
    Outcome.DIFFERS,
    Outcome.WARNING,
    Outcome.PRECONDITION_FAILED,
    Outcome.FAILED,
    Outcome.ERROR,
]

#: The outcomes a failure cause can have, worst first (the order causes are reported in).
CAUSE_ORDER = [
    Outcome.ERROR,
    Outcome.FAILED,
    Outcome.PRECONDITION_FAILED,
    Outcome.WARNING,
    Outcome.DIFFERS,
]

MASK = "***"


def mask_authorization(headers: dict[str, str]) -> dict[str, str]:
    """Return a copy of ``headers`` whose Authorization value is masked (scheme kept)."""
    masked = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {MASK}".strip()
        masked[name] = value
    return masked


@dataclass
class Exchange:
    """One HTTP request and its response (or the transport error that replaced it)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed_ms: float | None = None
    error: str | None = None  # connection refused, timeout, redirect refused, body too large
    operation_id: str | None = None

    def __post_init__(self) -> None:
        self.request_headers = mask_authorization(self.request_headers)


@dataclass
class CheckResult:
    """One named check: did it pass, at what level, and what was expected versus seen.

    A failed check of the fuzz phase also carries a ``title``, the kind of failure (the fuzz
    phase reports each kind of failure of a check once, with how often it happened). A
    scenario check carries ``step``, the index of its step, and ``under_test``, false for a
    set-up step (fuzz checks, and reports written before these fields, are under test).
    """

    name: str
    passed: bool
    level: Level
    message: str = ""
    expected: Any = None
    actual: Any = None
    exchange_index: int | None = None  # index into CaseResult.exchanges
    cleanup: bool = False  # from a ``finally:`` step: reported, never counted in the outcome
    title: str = ""
    step: int | None = None  # index of the scenario step (in ``steps`` or ``finally``)
    under_test: bool = True  # False: a set-up step's check (see Outcome.PRECONDITION_FAILED)

    @property
    def kind(self) -> str:
        """The check without its step: ``status_code``, ``response_schema``, ``drc_mirrors``."""
        return _STEP_PREFIX.sub("", self.name).split("[", 1)[0]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{**data, "level": Level(data["level"])})


@dataclass
class CaseResult:
    """One scenario (``kind="scenario"``) or one fuzzed operation (``kind="fuzz"``)."""

    id: str
    title: str
    rule: str  # "kic-001" or "oas:<operationId>"
    level: Level
    kind: str = "scenario"
    tags: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)  # operationIds exercised
    checks: list[CheckResult] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    duration_s: float = 0.0
    error: str | None = None
    skip_reason: str | None = None
    reproduce: str | None = None  # a command or curl line that replays a failure
    source: str | None = None  # file:line of the scenario
    #: operationIds of the steps under test (None: all of ``operations``, as for fuzz cases)
    operations_under_test: list[str] | None = None
    #: the mock DRC's journal entries about this scenario's objects (kept when it did not pass)
    drc_journal: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.skip_reason is not None:
            return Outcome.SKIPPED
        if self.error is not None:
            return Outcome.ERROR
        return _outcome_of(self.failed_checks())

    def tested_operations(self) -> list[str]:
        """The operationIds this case tests (its steps under test)."""
        if self.operations_under_test is None:
            return list(self.operations)
        return list(self.operations_under_test)

    def operation_of(self, check: CheckResult) -> str | None:
        """The operationId of the exchange ``check`` points at (None: none, or not in the spec)."""
        index = check.exchange_index
        if index is None or not 0 <= index < len(self.exchanges):
            return None
        return self.exchanges[index].operation_id

    def failed_preconditions(self) -> list[CheckResult]:
        """Failed must-level checks of set-up steps (what makes a case precondition failed)."""
        return [c for c in self.failed_checks() if c.level is Level.MUST and not c.under_test]

    def operation_outcomes(self) -> dict[str, Outcome]:
        """operationId -> what this case says about it, for the operations table.

        Steps under test count, each operation by its own checks (a check with no operation,
        such as a ``drc_expect`` one, counts for every operation under test). A set-up step
        counts only when it failed at must level: as *precondition failed* of its operation.
        """
        outcome = self.outcome
        if outcome in (Outcome.SKIPPED, Outcome.ERROR) or self.kind != "scenario":
            return dict.fromkeys(self.tested_operations(), outcome)
        per_operation: dict[str, list[CheckResult]] = {}
        everywhere: list[CheckResult] = []
        for check in self.checks:
            if check.cleanup or not check.under_test:
                continue
            op = self.operation_of(check)
            if op is None:
                everywhere.append(check)
            else:
                per_operation.setdefault(op, []).append(check)
        failed_everywhere = [c for c in everywhere if not c.passed]
        result = {
            op: _outcome_of([c for c in checks if not c.passed] + failed_everywhere)
            for op, checks in per_operation.items()
        }
        if not per_operation and outcome is not Outcome.PRECONDITION_FAILED:
            # Only operation-less checks (drc_expect) were under test: they speak for the
            # operations the scenario tests.
            result = dict.fromkeys(self.tested_operations(), _outcome_of(failed_everywhere))
        for check in self.failed_preconditions():
            op = self.operation_of(check)
            if op and result.get(op) is not Outcome.FAILED:
                result[op] = Outcome.PRECONDITION_FAILED
        return result

    def failed_checks(self) -> list[CheckResult]:
        """The failed checks that decide the outcome (cleanup problems left out)."""
        return [c for c in self.checks if not c.passed and not c.cleanup]

    def cleanup_problems(self) -> list[CheckResult]:
        """Failed checks of ``finally:`` steps that say the cleanup did not happen: reported,
        ignored by outcome and verdict (:func:`is_cleanup_problem`)."""
        return [c for c in self.checks if is_cleanup_problem(c)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: enums as strings, the outcome included."""
        data = asdict(self)
        data["level"] = self.level.value
        data["outcome"] = self.outcome.value
        for check in data["checks"]:
            check["level"] = Level(check["level"]).value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        """The case of :meth:`to_dict` output (the derived ``outcome`` is ignored)."""
        fields = {k: v for k, v in data.items() if k not in ("outcome", "checks", "exchanges")}
        case = cls(**{**fields, "level": Level(fields["level"])})
        case.checks = [CheckResult.from_dict(c) for c in data["checks"]]
        case.exchanges = [Exchange(**e) for e in data["exchanges"]]
        return case


#: Checks of a ``finally:`` step that fail when the cleanup itself did not happen: the step's
#: status, a request without a response, a step that could not run. Whatever their level.
CLEANUP_FAILED_KINDS = frozenset({"status_code", "response_received", "cleanup"})


def is_cleanup_problem(check: CheckResult) -> bool:
    """True for a failed ``finally:`` check saying the KIC may have kept test data: a
    must-level check, or one of :data:`CLEANUP_FAILED_KINDS`. A should- or reference-level
    finding about a cleanup answer that did its work (a plain-JSON 404 to a DELETE of what is
    already gone) is not one."""
    if check.passed or not check.cleanup:
        return False
    return check.level is Level.MUST or check.kind in CLEANUP_FAILED_KINDS


def _outcome_of(failed: list[CheckResult]) -> Outcome:
    """The outcome that failed (non-cleanup) checks come to."""
    must = [c for c in failed if c.level is Level.MUST]
    if any(c.under_test for c in must):
        return Outcome.FAILED
    if must:
        return Outcome.PRECONDITION_FAILED
    levels = {c.level for c in failed}
    if Level.SHOULD in levels:
        return Outcome.WARNING
    if Level.REFERENCE in levels:
        return Outcome.DIFFERS
    return Outcome.PASSED


#: The step label the runner puts before a check's name: ``step 3 (call: klant_create): ``.
_STEP_PREFIX = re.compile(r"^(?:cleanup )?step \d+ \(.*?\): ")
#: Where a case error happened (``file.yaml:12 step 3 (...): ``), left out of its cause.
_ERROR_PLACE = re.compile(r"^\S+:\d+(?: (?:cleanup )?step \d+ \(.*?\))?: ")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>\\]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_HTTP_STATUS = re.compile(r"[1-5]\d\d")


def message_shape(message: str) -> str:
    """``message`` with what differs between occurrences of one cause normalised: URLs become
    ``<url>``, uuids ``<uuid>``, numbers ``#`` (three-digit HTTP status codes stay: "got 400"
    and "got 500" are different causes)."""
    text = _URL.sub("<url>", message)
    text = _UUID.sub("<uuid>", text)
    return _NUMBER.sub(lambda m: m[0] if _HTTP_STATUS.fullmatch(m[0]) else "#", text).strip()


#: What a cause's own outcome says about its check, where the cases' outcomes differ from it.
_CHECK_WORDS = {
    Outcome.ERROR: "a case error",
    Outcome.FAILED: "a must-level check",
    Outcome.PRECONDITION_FAILED: "a must-level check of a set-up step",
    Outcome.WARNING: "a should-level check",
    Outcome.DIFFERS: "a reference-level check",
}
#: How a section of causes names what it holds, per cause outcome (in this order).
_HELD = {
    Outcome.ERROR: "errors",
    Outcome.FAILED: "failures",
    Outcome.PRECONDITION_FAILED: "failures",
    Outcome.WARNING: "warnings",
    Outcome.DIFFERS: "differences from the reference",
}


@dataclass
class Cause:
    """One distinct reason cases did not pass: one check failing with one message shape
    (:func:`message_shape`) at one outcome, or one kind of error, however many cases it hit.

    ``outcome`` is what the check comes to by itself (its level, and whether its step was under
    test); ``case_outcomes`` counts the outcomes of the cases it hit, which other checks of
    those cases may have made worse (a reference-level difference in a case that is
    precondition failed). :attr:`label` names both when they differ.
    """

    outcome: Outcome  # error, failed, precondition failed, warning or differs
    check: str  # the check without its step (``status_code``), or "error"
    message: str  # the first message seen with this shape (an example)
    shape: str
    cases: list[str] = field(default_factory=list)  # ids of the affected cases, in run order
    operations: list[str] = field(default_factory=list)  # operationIds where it happened
    occurrences: int = 0  # failed checks (or errors) with this cause
    #: the first request the mock DRC refused or lost (no fault rule of the scenario's own)
    #: in an affected case's journal: the DRC's side of the failure (None: none)
    drc_evidence: dict[str, Any] | None = None
    #: outcome of the affected cases -> how many (worst first)
    case_outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def case_outcome_list(self) -> list[Outcome]:
        """The outcomes of the affected cases, worst first (empty: none recorded)."""
        return [o for o in CAUSE_ORDER if self.case_outcomes.get(o.value)]

    @property
    def label(self) -> str:
        """The cause's label in reports: the outcome of its cases (``FAILED``, ``WARNING``),
        and, where that is not the check's own, what the check is: ``PRECONDITION FAILED
        (a reference-level check)`` for a difference found in cases whose set-up failed."""
        cases = self.case_outcome_list
        if not cases or cases == [self.outcome]:
            return self.outcome.value.upper()
        text = "/".join(o.value.upper() for o in cases)
        return f"{text} ({_CHECK_WORDS[self.outcome]})"

    @property
    def worst_case_outcome(self) -> Outcome:
        """The worst outcome among its cases (its own outcome when none are recorded)."""
        cases = self.case_outcome_list
        return cases[0] if cases else self.outcome

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["label"] = self.label
        return data


def causes_title(causes: list[Cause]) -> str:
    """What a list of causes holds, for its heading: ``Causes of failures``, ``Causes of
    warnings``, ``Causes of failures and differences from the reference``."""
    held = list(dict.fromkeys(_HELD[o] for o in _HELD if any(c.outcome is o for c in causes)))
    if not held:
        return "Causes"
    words = held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
    return f"Causes of {words}"


def _cause_outcome(check: CheckResult) -> Outcome:
    if check.level is Level.MUST:
        return Outcome.FAILED if check.under_test else Outcome.PRECONDITION_FAILED
    return Outcome.WARNING if check.level is Level.SHOULD else Outcome.DIFFERS


def drc_refusal(journal: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first journal entry the mock DRC answered with an error or not at all, unless a
    fault rule made it so (a scenario's deliberate fault is no evidence)."""
    for entry in journal:
        if "method" not in entry or entry.get("fault"):
            continue
        status = entry.get("status")
        if status is None or status >= 400:
            return entry
    return None


def group_causes(cases: list[CaseResult]) -> list[Cause]:
    """The distinct causes of every failed check and error of ``cases`` (cleanup problems
    left out), worst first: by outcome, then by the number of cases they hit."""
    causes: dict[tuple[Outcome, str, str], Cause] = {}

    def add(outcome: Outcome, check: str, message: str, case: CaseResult, ops: list[str]) -> None:
        shape = message_shape(message)
        cause = causes.setdefault((outcome, check, shape), Cause(outcome, check, message, shape))
        cause.occurrences += 1
        if case.id not in cause.cases:
            cause.cases.append(case.id)
            key = case.outcome.value
            cause.case_outcomes[key] = cause.case_outcomes.get(key, 0) + 1
        cause.operations.extend(op for op in ops if op not in cause.operations)
        if cause.drc_evidence is None:
            cause.drc_evidence = drc_refusal(case.drc_journal)

    for case in cases:
        if case.skip_reason is not None:
            continue
        if case.error is not None:
            lines = case.error.strip().splitlines() or ["error"]
            message = _ERROR_PLACE.sub("", lines[0])
            add(Outcome.ERROR, "error", message, case, case.tested_operations())
        for check in case.failed_checks():
            op = case.operation_of(check)
            message = check.message or check.title or "failed"
            add(_cause_outcome(check), check.kind, message, case, [op] if op else [])
    rank = {outcome: i for i, outcome in enumerate(CAUSE_ORDER)}
    for cause in causes.values():
        cause.case_outcomes = {
            o.value: cause.case_outcomes[o.value]
            for o in CAUSE_ORDER
            if o.value in cause.case_outcomes
        }
    # sorted() is stable: among equals, the cause seen first in the run comes first.
    return sorted(causes.values(), key=lambda c: (rank[c.outcome], -len(c.cases), -c.occurrences))


#: The verdict states (the first word(s) of :attr:`RunResult.verdict`) and their exit status
#: (an INTERRUPTED run ended by SIGTERM exits :data:`TERMINATED_EXIT_CODE` instead).
VERDICT_EXIT_CODES = {
    "CONFORMANT": 0,
    "NOT CONFORMANT": 1,
    "COULD NOT RUN": 2,
    "NO FAILURES": 3,
    "INTERRUPTED": 130,
}
#: The exit status of a run interrupted by SIGTERM (128 + 15, as a shell reports it).
TERMINATED_EXIT_CODE = 143
#: What a run must fuzz at least, per operation, to count as complete (the CLI's default).
COMPLETE_FUZZ_EXAMPLES = 25


@dataclass
class RunMode:
    """How a run was set up, as far as it decides whether the run was complete.

    ``drc`` is ``strict`` (the mock DRC calls the KIC back), ``lenient`` (it does not) or
    ``none``; ``drc_checks_tokens`` is False for a DRC that accepts any token. ``scenarios``
    says where the scenarios came from (``built-in``, the folders given, or ``given`` for a
    list handed to :func:`harness.run.run`); ``selection`` holds the filters applied to them.
    ``preflight`` is False only when the caller skipped the pre-flight checks;
    ``tls_insecure`` is True when TLS certificates were not checked (``--insecure``: anyone
    between the harness and the KIC could have answered for it).
    """

    drc: str = "none"
    drc_checks_tokens: bool = False
    narrow_client: bool = False
    scenarios: str = "built-in"
    contract: str = "built-in"
    selection: dict[str, list[str]] = field(default_factory=dict)
    fuzz_examples: int = 0
    fuzz_seed: int | None = None
    max_failures: int | None = None
    preflight: bool = True
    tls_insecure: bool = False

    def gaps(self) -> list[str]:
        """What this set-up leaves unchecked, in words (empty: a complete set-up)."""
        gaps = []
        if self.drc == "none":
            gaps.append("no mock DRC (kic-001 not checked)")
        elif self.drc == "lenient":
            gaps.append("lenient DRC (kic-001 ordering not checked)")
        if self.drc != "none" and not self.drc_checks_tokens:
            gaps.append("the DRC accepts any token")
        if not self.narrow_client:
            gaps.append("no narrow client (scopes not checked)")
        if self.scenarios != "built-in":
            gaps.append(f"scenarios: {self.scenarios}")
        if self.contract != "built-in":
            gaps.append(f"contract: {self.contract}")
        if self.selection:
            gaps.append(f"selection ({self._selection_text()})")
        if self.fuzz_examples <= 0:
            gaps.append("no fuzzing")
        elif self.fuzz_examples < COMPLETE_FUZZ_EXAMPLES:
            gaps.append(
                f"fuzzing with {self.fuzz_examples} examples per operation "
                f"(fewer than {COMPLETE_FUZZ_EXAMPLES})"
            )
        if not self.preflight:
            gaps.append("no pre-flight checks")
        if self.tls_insecure:
            gaps.append("TLS certificates not checked")
        return gaps

    def describe(self) -> str:
        """One line for the reports: the mode as set up."""
        drc = {
            "strict": "DRC strict (calls the KIC back)",
            "lenient": "DRC lenient (no call-back)",
        }.get(self.drc, "no DRC")
        if self.drc != "none":
            drc += ", checks tokens" if self.drc_checks_tokens else ", accepts any token"
        fuzz = (
            f"fuzzing {self.fuzz_examples} examples per operation (seed {self.fuzz_seed})"
            if self.fuzz_examples > 0
            else "no fuzzing"
        )
        parts = [
            drc,
            "narrow client" if self.narrow_client else "no narrow client",
            f"scenarios {self.scenarios}",
            f"contract {self.contract}",
            f"selection ({self._selection_text()})" if self.selection else "no selection",
            fuzz,
        ]
        if self.max_failures:
            parts.append(f"stop after {self.max_failures} failed cases")
        if not self.preflight:
            parts.append("no pre-flight")
        if self.tls_insecure:
            parts.append("TLS certificates not checked (--insecure)")
        return "; ".join(parts)

    def _selection_text(self) -> str:
        return "; ".join(f"{k} {', '.join(v)}" for k, v in sorted(self.selection.items()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMode:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class RunResult:
    """A whole run: target, settings that matter for reproduction, cases, observed statuses.

    ``mode`` is set by :func:`harness.run.run` (None for a result put together by hand: then
    only skips and stops make it incomplete). ``stopped`` says why the run ended before
    everything planned ran (``--max-failures``); ``interrupted`` is set on Ctrl-C, with the
    cases that finished before it, and ``terminated`` too when SIGTERM ended the run.
    """

    target: str
    started_at: str
    finished_at: str = ""
    spec_version: str = ""
    fuzz_seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    cases: list[CaseResult] = field(default_factory=list)
    # operationId -> status code -> times observed (scenarios and fuzz together)
    observed_statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # operationId -> the status codes the contract documents (for the coverage report)
    documented_statuses: dict[str, list[int]] = field(default_factory=dict)
    aborted: str | None = None  # set when the run could not go on (exit code 2)
    mode: RunMode | None = None
    stopped: str | None = None
    interrupted: bool = False
    terminated: bool = False

    def record_status(self, operation_id: str | None, status: int | None) -> None:
        if operation_id and status is not None:
            self.observed_statuses[operation_id][status] += 1

    @property
    def failed(self) -> bool:
        """True when a case failed at must level (in its step under test or in its set-up)
        or could not be run (errors)."""
        return any(c.outcome.counts_against for c in self.cases)

    @property
    def incomplete_reasons(self) -> list[str]:
        """Why this run cannot carry a CONFORMANT verdict even without failures."""
        reasons = self.mode.gaps() if self.mode else []
        skipped = self.counts().get(Outcome.SKIPPED, 0)
        if skipped:
            reasons.append(f"{skipped} skipped")
        if self.stopped:
            reasons.append(self.stopped)
        elif self.interrupted:
            reasons.append("interrupted")
        return reasons

    @property
    def verdict_state(self) -> str:
        """One of the keys of :data:`VERDICT_EXIT_CODES`."""
        if self.aborted:
            return "COULD NOT RUN"
        if self.interrupted:
            return "INTERRUPTED"
        if self.failed:
            return "NOT CONFORMANT"
        return "NO FAILURES" if self.incomplete_reasons else "CONFORMANT"

    @property
    def conformant(self) -> bool:
        """True only for a complete run without failures (the CONFORMANT verdict)."""
        return self.verdict_state == "CONFORMANT"

    @property
    def verdict(self) -> str:
        """The verdict as printed: the state, with the reasons when incomplete."""
        state = self.verdict_state
        if state == "NO FAILURES":
            return f"NO FAILURES (incomplete: {'; '.join(self.incomplete_reasons)})"
        return state

    @property
    def exit_code(self) -> int:
        state = self.verdict_state
        if state == "INTERRUPTED" and self.terminated:
            return TERMINATED_EXIT_CODE
        return VERDICT_EXIT_CODES[state]

    def counts(self) -> Counter[Outcome]:
        return Counter(c.outcome for c in self.cases)

    @property
    def fuzzed(self) -> bool:
        """True when the fuzzer ran (at least one fuzz case that was not skipped)."""
        return any(c.kind == "fuzz" and c.outcome is not Outcome.SKIPPED for c in self.cases)

    def cases_with_cleanup_problems(self) -> list[CaseResult]:
        """Cases, whatever their outcome, with at least one failed ``finally:`` check."""
        return [c for c in self.cases if c.cleanup_problems()]

    def cleanup_problem_count(self) -> int:
        """Failed ``finally:`` checks over the whole run (not part of the verdict)."""
        return sum(len(c.cleanup_problems()) for c in self.cases)

    def by_operation(self) -> dict[str, Counter[Outcome]]:
        """operationId -> outcomes of the cases that test it (:meth:`CaseResult.operation_outcomes`:
        steps under test only; a set-up failure counts against the operation that failed)."""
        table: dict[str, Counter[Outcome]] = defaultdict(Counter)
        for case in self.cases:
            for op, outcome in case.operation_outcomes().items():
                table[op][outcome] += 1
        return dict(table)

    def causes(self) -> list[Cause]:
        """The distinct causes of the run's failures, worst first (:func:`group_causes`)."""
        return group_causes(self.cases)

    def by_rule(self) -> dict[str, Counter[Outcome]]:
        """rule -> outcomes of its cases."""
        table: dict[str, Counter[Outcome]] = defaultdict(Counter)
        for case in self.cases:
            table[case.rule][case.outcome] += 1
        return dict(table)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: enums as strings, outcomes and verdict included."""
        return {
            "target": self.target,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "spec_version": self.spec_version,
            "fuzz_seed": self.fuzz_seed,
            "settings": self.settings,
            "verdict": self.verdict,
            "verdict_state": self.verdict_state,
            "exit_code": self.exit_code,
            "aborted": self.aborted,
            "mode": asdict(self.mode) if self.mode else None,
            "incomplete": self.incomplete_reasons,
            "stopped": self.stopped,
            "interrupted": self.interrupted,
            "terminated": self.terminated,
            "counts": {o.value: n for o, n in self.counts().items()},
            "causes": [cause.to_dict() for cause in self.causes()],
            "cleanup_problems": self.cleanup_problem_count(),
            "by_operation": {
                op: {o.value: n for o, n in c.items()} for op, c in self.by_operation().items()
            },
            "by_rule": {r: {o.value: n for o, n in c.items()} for r, c in self.by_rule().items()},
            "observed_statuses": {
                op: {str(s): n for s, n in sorted(c.items())}
                for op, c in sorted(self.observed_statuses.items())
            },
            "documented_statuses": dict(sorted(self.documented_statuses.items())),
            "cases": [c.to_dict() for c in self.cases],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """The run of :meth:`to_dict` output (derived keys such as the verdict are ignored)."""
        observed: dict[str, Counter[int]] = defaultdict(Counter)
        for op, statuses in (data.get("observed_statuses") or {}).items():
            observed[op] = Counter({int(s): n for s, n in statuses.items()})
        return cls(
            target=data["target"],
            started_at=data["started_at"],
            finished_at=data.get("finished_at", ""),
            spec_version=data.get("spec_version", ""),
            fuzz_seed=data.get("fuzz_seed"),
            settings=data.get("settings", {}),
            cases=[CaseResult.from_dict(c) for c in data.get("cases", [])],
            observed_statuses=observed,
            documented_statuses=data.get("documented_statuses") or {},
            aborted=data.get("aborted"),
            mode=RunMode.from_dict(data["mode"]) if data.get("mode") else None,
            stopped=data.get("stopped"),
            interrupted=bool(data.get("interrupted")),
            terminated=bool(data.get("terminated")),
        )
