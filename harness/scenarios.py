"""The scenario library: loading YAML scenario files into :class:`Scenario` objects, and linting.

Each file is parsed with line numbers (:mod:`harness.yamlload`), validated against
``scenario.schema.json``, then checked for what a schema cannot see: every ``call:`` names an
operationId of the spec, every ``{variable}`` used (in ``!regex`` patterns too) is defined
before use, every scenario has a step under test (:func:`steps_under_test`), and ids are unique
over the library. Every problem is reported as
``file:line: message``; :func:`load_library` raises :class:`ScenarioError` listing them all,
:func:`lint` returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from harness import yamlload
from harness.checks import lint_expect
from harness.results import Level
from harness.spec import Spec, load_spec
from harness.templating import FILTERS, placeholders
from zgw.contract import scenarios_path

SCHEMA_PATH = Path(__file__).resolve().parent / "scenario.schema.json"
DEFAULT_LIBRARY = scenarios_path()
STEP_KINDS = ("call", "request", "drc", "drc_expect")
BUILTIN_VARS = frozenset(
    {"api_root", "documents_root", "second_documents_root", "zaken_root", "unique", "year"}
)


@dataclass(frozen=True)
class Problem:
    """One problem in one scenario file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ScenarioError(Exception):
    """One or more scenario files are not in the scenario format; ``problems`` says where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Step:
    """One step: its kind (call, request, drc, drc_expect), its raw mapping and its line."""

    kind: str
    data: dict[str, Any]
    line: int
    index: int
    cleanup: bool = False
    #: the behaviour the scenario is about (see :func:`steps_under_test`); False: set-up
    under_test: bool = False

    @property
    def label(self) -> str:
        head = self.data.get(self.kind)
        if self.kind == "request" and isinstance(head, dict):
            head = f"{head.get('method', '?')} {head.get('path', '?')}"
        if self.kind == "drc_expect":
            head = ", ".join(head) if isinstance(head, dict) else head
        prefix = "cleanup " if self.cleanup else ""
        return f"{prefix}step {self.index + 1} ({self.kind}: {head})"


@dataclass
class Scenario:
    """One loaded, validated scenario."""

    id: str
    title: str
    rule: str
    level: Level
    tags: list[str]
    requires: list[str]
    description: str
    vars: dict[str, Any]
    steps: list[Step]
    finally_steps: list[Step]
    file: Path
    line: int = 1
    operations: list[str] = field(default_factory=list)
    #: operationIds called by the steps under test (what the operations table counts)
    operations_under_test: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def uses_faults(self) -> bool:
        """Fault rules are global to the DRC, so such scenarios must not run concurrently."""
        return any(s.kind == "drc" and s.data.get("drc") == "fault" for s in self.steps)

    @property
    def needs_exclusive_drc(self) -> bool:
        """True when other scenarios' DRC traffic could fool this one: it sets faults, or it
        asserts an absence or an exact count in the shared journal or mirror list."""
        if self.uses_faults:
            return True
        for step in self.steps:
            expect = step.data.get("drc_expect") if step.kind == "drc_expect" else None
            if not isinstance(expect, dict):
                continue
            if "not_received" in expect or "count" in (expect.get("received") or {}):
                return True
            if "count" in (expect.get("mirrors") or {}):
                return True
        return False


@lru_cache(maxsize=1)
def format_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _schema_problems(document: Any, file: str) -> list[Problem]:
    schema = format_schema()
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "oneOf" and len(path) == 2 and path[0] in ("steps", "finally"):
            problems.extend(_step_problems(document, path, error.instance, file))
            continue
        problems.append(Problem(file, yamlload.line_of(document, path), _describe(error)))
    return problems


def _step_problems(document: Any, path: list[Any], step: Any, file: str) -> list[Problem]:
    """Precise errors for one step: its kind first, then the schema of that kind."""
    line = yamlload.line_of(document, path)
    if not isinstance(step, dict):
        return [
            Problem(file, line, "a step must be a mapping with one of: " + ", ".join(STEP_KINDS))
        ]
    kinds = [k for k in STEP_KINDS if k in step]
    if len(kinds) != 1:
        found = ", ".join(kinds) if kinds else "none"
        return [
            Problem(
                file,
                line,
                f"a step needs exactly one kind key ({', '.join(STEP_KINDS)}); found {found}",
            )
        ]
    definition = {"call": "callStep", "request": "requestStep", "drc": "drcStep"}.get(
        kinds[0], "drcExpectStep"
    )
    schema = {**format_schema(), "$ref": f"#/definitions/{definition}"}
    schema.pop("required", None)
    schema.pop("properties", None)
    schema.pop("additionalProperties", None)
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in validator.iter_errors(step):
        sub = [*path, *error.absolute_path]
        problems.append(Problem(file, yamlload.line_of(document, sub), _describe(error)))
    return problems or [Problem(file, line, "this step does not match the scenario format")]


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "top level"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{where}: unknown key(s) {', '.join(map(str, extra))}; allowed: {allowed}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "not" and isinstance(error.instance, dict):
        return f"{where}: give either body or raw_body, not both"
    if error.absolute_path and error.absolute_path[-1] == "auth":
        return (
            f"{where}: expected default, none, invalid, wrong-secret, {{client: narrow}} or "
            f"{{token: ...}}, got {error.instance!r}"
        )
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{where}: {message}"


def _step_operation(step: dict[str, Any], spec: Spec) -> str | None:
    """The operationId a ``call``/``request`` step calls (None: other kinds, or not in the spec)."""
    if "call" in step:
        return step["call"]
    if "request" in step:
        op = spec.find_operation(step["request"]["method"], step["request"]["path"])
        return op.operation_id if op is not None else None
    return None


def steps_under_test(document: dict[str, Any], spec: Spec) -> list[int]:
    """Indexes of the ``steps`` under test: those marked ``under_test: true`` when any is;
    otherwise the steps calling the operation of ``rule: oas:<operationId>``, every
    ``drc_expect`` step and every read (a GET operation) after the first of those, since such
    a read checks what the operation did; minus those marked ``under_test: false``. The others
    are set-up: a must-level failure there makes the case *precondition failed*."""
    steps = document.get("steps") or []
    marked = [i for i, step in enumerate(steps) if step.get("under_test") is True]
    if marked:
        return marked
    rule = str(document.get("rule", ""))
    operation = rule.removeprefix("oas:") if rule.startswith("oas:") else None
    chosen: list[int] = []
    for i, step in enumerate(steps):
        if step.get("under_test") is False:
            continue
        called = _step_operation(step, spec)
        tested = "drc_expect" in step or (operation is not None and called == operation)
        checks_effect = bool(chosen) and called is not None and _is_read(called, spec)
        if tested or checks_effect:
            chosen.append(i)
    return chosen


def _is_read(operation_id: str, spec: Spec) -> bool:
    try:
        return spec.operation(operation_id).method == "GET"
    except KeyError:
        return False


def _semantic_problems(document: dict[str, Any], file: str, spec: Spec) -> list[Problem]:
    problems: list[Problem] = []
    if not steps_under_test(document, spec):
        problems.append(
            Problem(
                file,
                yamlload.line_of(document, ["steps"]),
                "no step is under test: mark the steps that test the behaviour with "
                "'under_test: true' (by default: steps calling the operation of rule oas:<op>, "
                "and drc_expect steps)",
            )
        )
    for index, step in enumerate(document.get("finally") or []):
        if "under_test" in step:
            problems.append(
                Problem(
                    file,
                    yamlload.line_of(document, ["finally", index]),
                    "under_test: a finally step is never under test (it only tidies up)",
                )
            )
    if "second-drc" not in (document.get("requires") or []):
        for section in ("steps", "finally"):
            for index, step in enumerate(document.get(section) or []):
                if step.get("on_drc") == "second":
                    problems.append(
                        Problem(
                            file,
                            yamlload.line_of(document, [section, index]),
                            "on_drc: second needs 'requires: [drc, second-drc]' (the run may "
                            "have only one mock DRC)",
                        )
                    )
    defined = set(BUILTIN_VARS) | set(document.get("vars") or {})
    all_saved = set(defined)
    for section in ("steps", "finally"):
        for step in document.get(section) or []:
            all_saved |= set(step.get("save") or {})
    for section in ("steps", "finally"):
        known = defined if section == "steps" else all_saved
        for index, step in enumerate(document.get(section) or []):
            line = yamlload.line_of(document, [section, index])
            unknown = spec.unknown_operation(step["call"]) if "call" in step else None
            if unknown:
                problems.append(Problem(file, line, f"call: {unknown}"))
            for problem in lint_expect(step.get("expect") or {}, spec):
                problems.append(Problem(file, line, problem))
            if "call" in step and step["call"] in spec.operations:
                op = spec.operations[step["call"]]
                missing = sorted(set(op.path_params) - set(step.get("path") or {}))
                if missing:
                    problems.append(
                        Problem(file, line, f"path: {step['call']} needs {', '.join(missing)}")
                    )
            used = {k: v for k, v in step.items() if k != "save"}
            for name, filt in placeholders(used):
                if name not in known:
                    problems.append(
                        Problem(file, line, f"variable {{{name}}} is used before it is defined")
                    )
                if filt is not None and filt not in FILTERS:
                    filters = ", ".join(sorted(FILTERS))
                    problems.append(
                        Problem(file, line, f"unknown template filter |{filt} (known: {filters})")
                    )
            if section == "steps":
                known = known | set(step.get("save") or {})
    return problems


def _build(document: dict[str, Any], file: Path, spec: Spec) -> Scenario:
    tested = set(steps_under_test(document, spec))

    def steps(section: str) -> list[Step]:
        result = []
        for index, raw in enumerate(document.get(section) or []):
            kind = next(k for k in STEP_KINDS if k in raw)
            line = yamlload.line_of(document, [section, index])
            main = section == "steps"
            result.append(
                Step(kind, raw, line, index, cleanup=not main, under_test=main and index in tested)
            )
        return result

    main, cleanup = steps("steps"), steps("finally")
    # Operations the scenario exercises: a delete that only tidies up in ``finally`` is not
    # tested by it (and must not count in the per-operation table or --operation).
    operations: list[str] = []
    operations_under_test: list[str] = []
    for step in main:
        op = _step_operation(step.data, spec)
        if op is not None and op in spec.operations:
            operations.append(op)
            if step.under_test:
                operations_under_test.append(op)
    rule_operation = str(document["rule"]).removeprefix("oas:")
    if not operations_under_test and rule_operation in spec.operations:
        # Steps outside the spec (PUT on a read-only path) test the operation of the rule.
        operations_under_test.append(rule_operation)
    tags = list(dict.fromkeys([*(document.get("tags") or []), file.parent.name]))
    return Scenario(
        id=document["id"],
        title=document["title"],
        rule=document["rule"],
        level=Level(document.get("level", "must")),
        tags=tags,
        requires=list(document.get("requires") or []),
        description=str(document.get("description") or "").strip(),
        vars=dict(document.get("vars") or {}),
        steps=main,
        finally_steps=cleanup,
        file=file,
        line=getattr(document, "line", 1) or 1,
        operations=list(dict.fromkeys(operations)),
        operations_under_test=list(dict.fromkeys(operations_under_test)),
    )


def load_file(path: str | Path, spec: Spec | None = None) -> tuple[Scenario | None, list[Problem]]:
    """Load one scenario file: the scenario (None when invalid) and its problems."""
    file = Path(path)
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, f"cannot read the file ({exc})")]
    try:
        document = yamlload.load(text)
    except yamlload.YamlFormatError as exc:
        return None, [Problem(name, exc.line, exc.message)]
    if not isinstance(document, dict):
        return None, [Problem(name, 1, "a scenario file must be one YAML mapping (id, title, ...)")]
    problems = _schema_problems(document, name)
    if problems:
        return None, problems
    spec = spec or load_spec()
    problems = _semantic_problems(document, name, spec)
    if problems:
        return None, problems
    return _build(document, file, spec), []


def scenario_files(paths: list[str | Path] | None = None) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file under the given files or folders, sorted."""
    roots = [Path(p) for p in paths] if paths else [DEFAULT_LIBRARY]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(root)
    return list(dict.fromkeys(files))


def lint(
    paths: list[str | Path] | None = None, spec: Spec | None = None
) -> tuple[list[Scenario], list[Problem]]:
    """Load every scenario file under ``paths``; return the good scenarios and all problems."""
    problems: list[Problem] = []
    roots = [Path(p) for p in paths] if paths else [DEFAULT_LIBRARY]
    for root in roots:
        if not root.exists():
            problems.append(Problem(str(root), 0, "no such file or folder"))
    scenarios: list[Scenario] = []
    seen: dict[str, Scenario] = {}
    for file in scenario_files([r for r in roots if r.exists()]):
        scenario, found = load_file(file, spec)
        problems.extend(found)
        if scenario is None:
            continue
        if scenario.id in seen:
            first = seen[scenario.id]
            problems.append(
                Problem(
                    str(file),
                    scenario.line,
                    f"id {scenario.id!r} is already used at {first.source}",
                )
            )
            continue
        seen[scenario.id] = scenario
        scenarios.append(scenario)
    return scenarios, problems


def load_library(paths: list[str | Path] | None = None, spec: Spec | None = None) -> list[Scenario]:
    """Load the scenario library (default: the repository's ``scenarios/``, recursively).

    Raises :class:`ScenarioError` naming file:line for every problem in any file.
    """
    scenarios, problems = lint(paths, spec)
    if problems:
        raise ScenarioError(problems)
    return scenarios
