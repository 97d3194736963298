"""The one result model of a conformance run; every reporter is a consumer of this data.

A run is a list of :class:`CaseResult` (one per scenario or fuzzed operation). Each case holds
its checks (:class:`CheckResult`, each with a requirement level; scenario checks and fuzz checks
alike) and the HTTP exchanges that produced them (:class:`Exchange`, Authorization values
masked). :meth:`RunResult.to_dict` and :meth:`RunResult.from_dict` turn a run into JSON-ready
data and back. Verdicts are derived, never
stored: a failed ``must`` check makes the run NOT CONFORMANT, a failed ``should`` check is a
warning, a failed ``reference`` check "differs from the reference".

A run without failures is CONFORMANT only when it was complete: :class:`RunMode` records how
the run was set up (DRC strict or lenient, token checking, narrow client, selection, fuzzing)
and :attr:`RunResult.incomplete_reasons` names every gap (skips included); with any, the
verdict is ``NO FAILURES (incomplete: ...)``. :data:`VERDICT_EXIT_CODES` maps each verdict
state to the exit status of the command line.

Checks of a scenario's ``finally:`` steps carry ``cleanup=True``. A failed one is a *cleanup
problem*: it never changes a case's outcome or the verdict (the behaviour under test already
passed or failed), but every report lists it, because a KIC that cannot clean up leaves data
behind.
"""

from __future__ import annotations

import enum
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
    FAILED = "failed"  # a must-level check failed
    ERROR = "error"  # the case could not be run (target unreachable mid-run, harness bug)
    SKIPPED = "skipped"  # not applicable to this run; always carries a reason


OUTCOME_ORDER = [
    Outcome.PASSED,
    Outcome.SKIPPED,
    Outcome.DIFFERS,
    Outcome.WARNING,
    Outcome.FAILED,
    Outcome.ERROR,
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
    phase reports each kind of failure of a check once, with how often it happened).
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

    @property
    def outcome(self) -> Outcome:
        if self.skip_reason is not None:
            return Outcome.SKIPPED
        if self.error is not None:
            return Outcome.ERROR
        failed_levels = {c.level for c in self.failed_checks()}
        if Level.MUST in failed_levels:
            return Outcome.FAILED
        if Level.SHOULD in failed_levels:
            return Outcome.WARNING
        if Level.REFERENCE in failed_levels:
            return Outcome.DIFFERS
        return Outcome.PASSED

    def failed_checks(self) -> list[CheckResult]:
        """The failed checks that decide the outcome (cleanup problems left out)."""
        return [c for c in self.checks if not c.passed and not c.cleanup]

    def cleanup_problems(self) -> list[CheckResult]:
        """Failed checks of ``finally:`` steps: reported, ignored by outcome and verdict."""
        return [c for c in self.checks if not c.passed and c.cleanup]

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


#: The verdict states (the first word(s) of :attr:`RunResult.verdict`) and their exit status.
VERDICT_EXIT_CODES = {
    "CONFORMANT": 0,
    "NOT CONFORMANT": 1,
    "COULD NOT RUN": 2,
    "NO FAILURES": 3,
    "INTERRUPTED": 130,
}
#: What a run must fuzz at least, per operation, to count as complete (the CLI's default).
COMPLETE_FUZZ_EXAMPLES = 25


@dataclass
class RunMode:
    """How a run was set up, as far as it decides whether the run was complete.

    ``drc`` is ``strict`` (the mock DRC calls the KIC back), ``lenient`` (it does not) or
    ``none``; ``drc_checks_tokens`` is False for a DRC that accepts any token. ``scenarios``
    says where the scenarios came from (``built-in``, the folders given, or ``given`` for a
    list handed to :func:`harness.run.run`); ``selection`` holds the filters applied to them.
    ``preflight`` is False only when the caller skipped the pre-flight checks.
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
    cases that finished before it.
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

    def record_status(self, operation_id: str | None, status: int | None) -> None:
        if operation_id and status is not None:
            self.observed_statuses[operation_id][status] += 1

    @property
    def failed(self) -> bool:
        """True when a case failed at must level or could not be run (errors)."""
        return any(c.outcome in (Outcome.FAILED, Outcome.ERROR) for c in self.cases)

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
        return VERDICT_EXIT_CODES[self.verdict_state]

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
        """operationId -> outcomes of the cases that exercise it."""
        table: dict[str, Counter[Outcome]] = defaultdict(Counter)
        for case in self.cases:
            for op in dict.fromkeys(case.operations):
                table[op][case.outcome] += 1
        return dict(table)

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
            "counts": {o.value: n for o, n in self.counts().items()},
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
        )
