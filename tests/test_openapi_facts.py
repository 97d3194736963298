"""The project's openapi.yaml states the same facts as the official KIC 1.0.0-rc1 spec.

Facts are everything a client or server can observe: paths, methods, operationIds, parameters,
request and response schemas with every constraint, headers, content types, status codes and
security. Texts (descriptions, summaries, titles, examples) are ours and are not compared.
Both documents are compared with every ``$ref`` resolved, so sharing a definition through
``components`` is a presentation choice, not a change of facts.

The official file is ``$KIC_OFFICIAL_SPEC`` when set, else
``shared/specs/kic-1.0.0-rc1.openapi.yaml`` beside the repository or beside one of the folders
above it (a worktree may sit deeper); without it the comparison is skipped, saying where it
looked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from zgw.contract import openapi_path

ROOT = Path(__file__).resolve().parent.parent
OURS = openapi_path()
OFFICIAL_NAME = Path("shared") / "specs" / "kic-1.0.0-rc1.openapi.yaml"
OFFICIAL_ENV = "KIC_OFFICIAL_SPEC"
TEXT_KEYS = {"description", "summary", "title", "example", "examples"}


def _resolve(node: Any, document: dict[str, Any], names: bool = False) -> Any:
    """Inline every local ``$ref`` and drop texts, so only facts remain.

    ``names``: ``node`` maps property names to schemas (the value of ``properties``), where a
    key such as ``title`` is a fact (Fout has a ``title`` property), not a text.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, document)
        return {
            k: _resolve(v, document, names=k == "properties" and not names)
            for k, v in node.items()
            if names or k not in TEXT_KEYS
        }
    if isinstance(node, list):
        return [_resolve(item, document) for item in node]
    return node


def _facts(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": document["openapi"],
        "version": document["info"]["version"],
        "servers": document.get("servers"),
        "security": document.get("security"),
        "tags": sorted(tag["name"] for tag in document.get("tags", [])),
        "paths": _resolve(document["paths"], document),
        "schemas": _resolve(document["components"]["schemas"], document),
        "securitySchemes": _resolve(document["components"]["securitySchemes"], document),
    }


def _differences(ours: Any, official: Any, where: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(official, dict):
        found = []
        for key in sorted(set(ours) | set(official), key=str):
            here = f"{where}/{key}"
            if key not in ours:
                found.append(f"{here}: missing in openapi.yaml (official: {official[key]!r:.120})")
            elif key not in official:
                found.append(f"{here}: not in the official spec (ours: {ours[key]!r:.120})")
            else:
                found.extend(_differences(ours[key], official[key], here))
        return found
    if isinstance(ours, list) and isinstance(official, list) and len(ours) == len(official):
        found = []
        for index, (mine, theirs) in enumerate(zip(ours, official, strict=True)):
            found.extend(_differences(mine, theirs, f"{where}/{index}"))
        return found
    if ours != official:
        return [f"{where or '/'}: ours {ours!r:.120} != official {official!r:.120}"]
    return []


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def official_spec_candidates() -> list[Path]:
    """Where the official spec may be, in order: the env var, then beside each ancestor."""
    if os.environ.get(OFFICIAL_ENV):
        return [Path(os.environ[OFFICIAL_ENV])]
    return [folder / OFFICIAL_NAME for folder in ROOT.parents]


@pytest.fixture(scope="module")
def official() -> dict[str, Any]:
    candidates = official_spec_candidates()
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        looked = ", ".join(str(p) for p in candidates[:3]) + (
            ", ..." if len(candidates) > 3 else ""
        )
        pytest.skip(
            f"the official KIC spec is not available (looked at {looked}; "
            f"set {OFFICIAL_ENV} to its path)"
        )
    return _load(found)


def test_the_shipped_contract_is_the_top_level_file() -> None:
    """zgw.contract answers with the file people edit (through the link in a checkout)."""
    assert OURS.samefile(ROOT / "openapi.yaml")


def test_openapi_states_the_facts_of_the_official_spec(official: dict[str, Any]) -> None:
    differences = _differences(_facts(_load(OURS)), _facts(official))
    report = "\n".join(differences)
    assert not differences, f"openapi.yaml differs from the official spec:\n{report}"


def test_the_comparison_notices_a_changed_constraint(official: dict[str, Any]) -> None:
    ours = _load(OURS)
    ours["components"]["schemas"]["Verzoek"]["properties"]["tekst"]["maxLength"] = 10
    del ours["paths"]["/klanten/{uuid}"]["delete"]["responses"]["404"]
    differences = _differences(_facts(ours), _facts(official))
    assert any("Verzoek/properties/tekst/maxLength" in d for d in differences)
    assert any("/klanten/{uuid}/delete/responses/404" in d for d in differences)


def test_the_comparison_notices_a_lost_property_named_like_a_text(
    official: dict[str, Any],
) -> None:
    """A property called ``title`` is a fact: losing it from Fout is a difference."""
    ours = _load(OURS)
    del ours["components"]["schemas"]["Fout"]["properties"]["title"]
    differences = _differences(_facts(ours), _facts(official))
    assert any("Fout/properties/title" in d for d in differences), differences


def test_texts_are_dropped_but_property_names_are_kept() -> None:
    document = {
        "properties": {
            "title": {"type": "string", "title": "Title", "description": "ours"},
            "properties": {"type": "object", "properties": {"title": {"type": "string"}}},
        }
    }
    assert _resolve(document, document) == {
        "properties": {
            "title": {"type": "string"},
            "properties": {"type": "object", "properties": {"title": {"type": "string"}}},
        }
    }


def test_all_texts_are_our_own(official: dict[str, Any]) -> None:
    def texts(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {v for k, v in node.items() if k in ("description", "summary") and v}
            return found.union(*(texts(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(texts(v) for v in node)) if node else set()
        return set()

    # Status phrases such as "Internal server error" are names, not prose; sentences must be ours.
    shared = {t for t in texts(_load(OURS)) & texts(official) if len(t.split()) > 3}
    assert not shared, f"descriptions copied from the official spec: {sorted(shared)[:5]}"
