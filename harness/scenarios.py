"""The scenario library: loading YAML scenario files into :class:`Scenario` objects, and linting.

Each file is parsed with line numbers (:mod:`harness.yamlload`), validated against
``scenario.schema.json``, then checked for what a schema cannot see: every ``call:`` names an
operationId of the spec, every ``{variable}`` used (in ``!regex`` patterns too) is defined
before use, every scenario has a step under test (:func:`steps_under_test`), and ids are unique
over the library. A *matrix file* (one with a ``matrix:`` key) is expanded first
(:func:`expand_matrix`): one scenario document per operation and variant, each then checked
like a file of its own. Every problem is reported as ``file:line: message``;
:func:`load_library` raises :class:`ScenarioError` listing them all, :func:`lint` returns them.
"""

from __future__ import annotations

import copy
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
#: A matrix resource's body that each write method sends (POST also makes the object).
MATRIX_BODIES = {"POST": "create", "PUT": "update", "PATCH": "partial_update"}
#: The variable a matrix scenario's item operation acts on (the object its set-up made).
MATRIX_OBJECT = "object"
#: The refusals a matrix scenario accepts: 403, and 401 where the operation documents it.
MATRIX_REFUSALS = (401, 403)


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
    #: the defects of the reference KIC that must each make this scenario fail (``proof:``)
    proof: tuple[str, ...] = ()
    #: made from a matrix file (``file``), not written out in a file of its own
    generated: bool = False

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


def _definition_schema(name: str) -> dict[str, Any]:
    """The format schema narrowed to one of its definitions (``callStep``, ``matrixFile``)."""
    schema = {**format_schema(), "$ref": f"#/definitions/{name}"}
    for key in ("required", "properties", "additionalProperties"):
        schema.pop(key, None)
    return schema


def _schema_problems(document: Any, file: str, definition: str | None = None) -> list[Problem]:
    schema = _definition_schema(definition) if definition else format_schema()
    validator = jsonschema.Draft7Validator(schema)
    problems = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        in_steps = len(path) >= 2 and path[-2] in ("steps", "finally", "given")
        if error.validator == "oneOf" and in_steps and isinstance(path[-1], int):
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
    validator = jsonschema.Draft7Validator(_definition_schema(definition))
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
        words = ", ".join(format_schema()["definitions"]["auth"]["oneOf"][0]["enum"])
        got = repr(error.instance)
        return f"{where}: expected {words}, {{client: narrow}} or {{token: ...}}, got {got}"
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
    """What the schema cannot see in one scenario document, in the order of the file."""
    return [*_marking_problems(document, file, spec), *_reference_problems(document, file, spec)]


def _marking_problems(document: dict[str, Any], file: str, spec: Spec) -> list[Problem]:
    """Some step is under test, no ``finally`` step is marked so, and ``on_drc: second``
    comes with ``requires: second-drc``."""
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
    return problems


def _reference_problems(document: dict[str, Any], file: str, spec: Spec) -> list[Problem]:
    """What each step refers to: its operation and ``expect`` keys, and the variables it
    uses, defined by an earlier step (a ``finally`` step may use any variable a step saves:
    the runner skips it when the variable was never set)."""
    defined = set(BUILTIN_VARS) | set(document.get("vars") or {})
    all_saved = set(defined)
    for section in ("steps", "finally"):
        for step in document.get(section) or []:
            all_saved |= set(step.get("save") or {})
    problems: list[Problem] = []
    for section in ("steps", "finally"):
        known = defined if section == "steps" else all_saved
        for index, step in enumerate(document.get(section) or []):
            line = yamlload.line_of(document, [section, index])
            messages = [*_call_messages(step, spec), *_variable_messages(step, known)]
            problems.extend(Problem(file, line, message) for message in messages)
            if section == "steps":
                known = known | set(step.get("save") or {})
    return problems


def _call_messages(step: dict[str, Any], spec: Spec) -> list[str]:
    """The step's ``call`` names an operation and fills its path parameters; its ``expect``
    keys pass their own lint."""
    messages: list[str] = []
    unknown = spec.unknown_operation(step["call"]) if "call" in step else None
    if unknown:
        messages.append(f"call: {unknown}")
    messages.extend(lint_expect(step.get("expect") or {}, spec))
    if "call" in step and step["call"] in spec.operations:
        op = spec.operations[step["call"]]
        missing = sorted(set(op.path_params) - set(step.get("path") or {}))
        if missing:
            messages.append(f"path: {step['call']} needs {', '.join(missing)}")
    return messages


def _variable_messages(step: dict[str, Any], known: set[str]) -> list[str]:
    """Every ``{variable}`` the step uses (outside ``save``) is ``known`` and every filter
    exists."""
    messages: list[str] = []
    used = {k: v for k, v in step.items() if k != "save"}
    for name, filt in placeholders(used):
        if name not in known:
            messages.append(f"variable {{{name}}} is used before it is defined")
        if filt is not None and filt not in FILTERS:
            filters = ", ".join(sorted(FILTERS))
            messages.append(f"unknown template filter |{filt} (known: {filters})")
    return messages


def _proof(document: dict[str, Any]) -> tuple[str, ...]:
    proof = document.get("proof") or {}
    return tuple(proof["defects"]) if "defects" in proof else tuple(proof.values())


def _build(
    document: dict[str, Any], file: Path, spec: Spec, *, generated: bool = False
) -> Scenario:
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
        proof=_proof(document),
        generated=generated,
    )


def load_file(path: str | Path, spec: Spec | None = None) -> tuple[list[Scenario], list[Problem]]:
    """Load one scenario file (a matrix file gives many): the valid scenarios and the problems."""
    file = Path(path)
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(name, 1, f"cannot read the file ({exc})")]
    try:
        document = yamlload.load(text)
    except yamlload.YamlFormatError as exc:
        return [], [Problem(name, exc.line, exc.message)]
    if not isinstance(document, dict):
        return [], [Problem(name, 1, "a scenario file must be one YAML mapping (id, title, ...)")]
    spec = spec or load_spec()
    generated = "matrix" in document
    if generated:
        documents, problems = expand_matrix(document, name, spec)
    else:
        documents, problems = [document], []
    scenarios: list[Scenario] = []
    for one in documents:
        found = _schema_problems(one, name) or _semantic_problems(one, name, spec)
        problems.extend(found)
        if not found:
            scenarios.append(_build(one, file, spec, generated=generated))
    return scenarios, list(dict.fromkeys(problems))


# --------------------------------------------------------------------------- matrix files


def expand_matrix(
    document: dict[str, Any], file: str, spec: Spec
) -> tuple[list[Any], list[Problem]]:
    """The scenario documents a matrix file stands for, and the problems of the file itself.

    One document per operation (``matrix.operations``: ``all`` of openapi.yaml, or a list)
    and variant (``matrix.variants``; one with ``operations: writes`` skips GET operations):
    the operation called with the variant's ``auth`` on a real object, expecting a refusal.
    What the operations of a collection need comes from ``resources.<collection>``: ``given``
    steps, the ``create`` body (also what makes the object an item operation acts on, saved
    as ``{object}``), the ``update`` and ``partial_update`` bodies, and ``finally`` steps.
    The documents keep the template's line numbers, so their problems name the template.
    """
    problems = _schema_problems(document, file, "matrixFile")
    if problems:
        return [], problems
    matrix, resources = document["matrix"], document["resources"]
    wanted = matrix.get("operations", "all")
    operations = list(spec.operations) if wanted == "all" else list(wanted)
    documents: list[Any] = []
    for index, operation_id in enumerate(operations):
        if operation_id not in spec.operations:
            line = yamlload.line_of(document, ["matrix", "operations", index])
            problems.append(
                Problem(
                    file,
                    line,
                    f"matrix.operations: {operation_id!r} is not an operationId of the spec",
                )
            )
            continue
        operation = spec.operations[operation_id]
        collection = operation.path.strip("/").split("/")[0]
        resource = resources.get(collection)
        if resource is None:
            line = yamlload.line_of(document, ["resources"])
            problems.append(
                Problem(
                    file, line, f"resources: no entry for {collection} (operation {operation_id})"
                )
            )
            continue
        for name, variant in matrix["variants"].items():
            if variant.get("operations") == "writes" and operation.method == "GET":
                continue
            made = _matrix_document(document, operation, collection, name, spec)
            if isinstance(made, Problem):
                problems.append(Problem(file, made.line, made.message))
            else:
                documents.append(made)
    return documents, problems


def _matrix_document(
    template: dict[str, Any], operation: Any, collection: str, name: str, spec: Spec
) -> Any:
    """One scenario document of a matrix file (a :class:`Problem` without file when the
    template lacks what the operation needs)."""
    resource = template["resources"][collection]
    resource_line = yamlload.line_of(template, ["resources", collection])
    needed = ["create"] if operation.path_params else []
    needed += [MATRIX_BODIES[operation.method]] if operation.method in MATRIX_BODIES else []
    for key in needed:
        if key not in resource:
            return Problem(
                "",
                resource_line,
                f"resources.{collection}: {operation.operation_id} needs its '{key}' body",
            )
    setup = _matrix_setup(template, operation, collection, spec)
    if isinstance(setup, Problem):
        return setup
    steps, cleanup = setup
    variant_line = yamlload.line_of(template, ["matrix", "variants", name])
    steps.append(_placed(_matrix_call(template, operation, collection, name), variant_line))
    document = _line_dict(_matrix_fields(template, operation, collection, name), variant_line)
    document["steps"] = _line_list(steps, variant_line)
    document.lines["steps"] = variant_line
    if cleanup:
        document["finally"] = _line_list(cleanup, resource_line)
        document.lines["finally"] = resource_line
    return document


def _matrix_setup(
    template: dict[str, Any], operation: Any, collection: str, spec: Spec
) -> tuple[list[tuple[Any, int]], list[tuple[Any, int]]] | Problem:
    """The steps before and after a matrix scenario's call, each with its line: for a write or
    an item operation the resource's ``given`` and ``finally`` steps, and for an item
    operation the create that makes its object (saved as ``{object}``) and, where the spec
    has one, the delete that removes it."""
    resource = template["resources"][collection]
    resource_line = yamlload.line_of(template, ["resources", collection])
    item = bool(operation.path_params)
    steps: list[tuple[Any, int]] = []
    cleanup: list[tuple[Any, int]] = []
    if operation.method != "GET" or item:
        steps += _with_lines(template, ["resources", collection, "given"])
        cleanup += _with_lines(template, ["resources", collection, "finally"])
    if not item:
        return steps, cleanup
    create = spec.find_operation("POST", f"/{collection}")
    if create is None:
        return Problem(
            "",
            resource_line,
            f"resources.{collection}: no create operation in the spec makes the object "
            f"of {operation.operation_id}",
        )
    made = {
        "call": create.operation_id,
        "body": copy.deepcopy(resource["create"]),
        "expect": {"status": 201},
        "save": {MATRIX_OBJECT: "$.url"},
    }
    steps.append(_placed(made, resource_line))
    delete = spec.find_operation("DELETE", operation.path)
    if delete is not None:
        path = {p: f"{{{MATRIX_OBJECT}|uuid}}" for p in delete.path_params}
        removed = {"call": delete.operation_id, "path": path, "expect": {"status": [204, 404]}}
        cleanup.append(_placed(removed, resource_line))
    return steps, cleanup


def _matrix_call(
    template: dict[str, Any], operation: Any, collection: str, name: str
) -> dict[str, Any]:
    """The step under test of a matrix scenario: the operation called with the variant's
    ``auth`` (on the set-up's object, with the resource's body), expecting a refusal."""
    variant = template["matrix"]["variants"][name]
    resource = template["resources"][collection]
    body_key = MATRIX_BODIES.get(operation.method)
    documented = operation.documented_statuses()
    refusals = sorted({403} | {s for s in MATRIX_REFUSALS if s in documented})
    tested: dict[str, Any] = {"call": operation.operation_id}
    if operation.path_params:
        tested["path"] = {p: f"{{{MATRIX_OBJECT}|uuid}}" for p in operation.path_params}
    if body_key:
        tested["body"] = copy.deepcopy(resource[body_key])
    tested["auth"] = copy.deepcopy(variant["auth"])
    tested["expect"] = {"status": refusals}
    return tested


def _matrix_fields(
    template: dict[str, Any], operation: Any, collection: str, name: str
) -> dict[str, Any]:
    """A matrix scenario's own fields (id, title, rule, level, tags, requires, description,
    proof), from the template, the resource and the variant."""
    variant = template["matrix"]["variants"][name]
    resource = template["resources"][collection]
    slug = operation.operation_id.replace("_", "-")
    fields: dict[str, Any] = {
        "id": template["id"].replace("{variant}", name).replace("{operation}", slug),
        "title": template["title"]
        .replace("{variant}", variant["title"])
        .replace("{operation}", operation.operation_id),
        "rule": f"oas:{operation.operation_id}",
        "level": variant.get("level", template.get("level", "must")),
        "tags": list(dict.fromkeys([*template.get("tags", []), name])),
    }
    requires = [
        *template.get("requires", []),
        *resource.get("requires", []),
        *variant.get("requires", []),
    ]
    if requires:
        fields["requires"] = list(dict.fromkeys(requires))
    if "description" in template:
        fields["description"] = template["description"]
    if "proof" in variant:
        fields["proof"] = copy.deepcopy(variant["proof"])
    return fields


def _with_lines(document: Any, path: list[Any]) -> list[tuple[Any, int]]:
    """Deep copies of the items of the list at ``path`` (none: empty), each with its line."""
    node = document
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return []
    return [
        (copy.deepcopy(item), yamlload.line_of(document, [*path, i])) for i, item in enumerate(node)
    ]


def _placed(values: dict[str, Any], line: int) -> tuple[yamlload.LineDict, int]:
    """A made-up step at ``line`` (where in the template it comes from), as a step list item."""
    return _line_dict(values, line), line


def _line_dict(values: dict[str, Any], line: int) -> yamlload.LineDict:
    made = yamlload.LineDict(values)
    made.line = line
    made.lines = dict.fromkeys(values, line)
    return made


def _line_list(items: list[tuple[Any, int]], line: int) -> yamlload.LineList:
    made = yamlload.LineList([item for item, _ in items])
    made.line = line
    made.lines = [item_line for _, item_line in items]
    return made


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
        loaded, found = load_file(file, spec)
        problems.extend(found)
        for scenario in loaded:
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
