"""Reporters: separate consumers of :class:`harness.results.RunResult` (terminal, JUnit, JSON,
HTML).

Every reporter passes what it writes through :func:`redact`, so a token never reaches a report
even when a server echoes one back in a body or header.
"""

from __future__ import annotations

import re
from typing import Any

from harness.results import MASK, RunMode

#: A JWT (three base64url segments, the first starting with the encoded '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)?\s*)([^\s\"',}]+)"
)


def redact(text: str) -> str:
    """``text`` with every JWT and every Authorization value masked."""
    text = _JWT.sub(MASK, text)
    return _AUTH_HEADER.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    value = match.group(2)
    # A shell variable (``Bearer $KIC_TOKEN`` in a reproduce line) holds no secret; masking
    # it would break the line it is in.
    if value == MASK or value.startswith("$"):
        return match.group(0)
    return match.group(1) + MASK


def redact_tree(value: Any) -> Any:
    """A copy of a JSON-ready tree with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    return value


# What the run's verdict rests on. ``RunResult`` gains ``mode``, ``incomplete_reasons`` and
# ``interrupted`` with the verdict states (CONFORMANT, NOT CONFORMANT, COULD NOT RUN, NO
# FAILURES (incomplete: ...), INTERRUPTED); these read them defensively, so the reporters
# also work on a result without them (then the mode is derived from the settings).


def run_mode(run: Any) -> dict[str, Any]:
    """The run mode as label -> value: the DRC, token checking, narrow client, selection,
    fuzzing (``run.mode`` when the result has one)."""
    mode = getattr(run, "mode", None)
    if isinstance(mode, RunMode):
        return _mode_labels(mode)
    settings = getattr(run, "settings", None) or {}
    derived: dict[str, Any] = {}
    drc = settings.get("drc_url")
    if "drc_url" in settings:
        embedded = " (embedded)" if settings.get("drc_embedded") else ""
        derived["mock DRC"] = f"{drc}{embedded}" if drc else "none (kic-001 scenarios skipped)"
    if "narrow_client_id" in settings:
        derived["narrow client"] = settings["narrow_client_id"] or "none"
    if "selection" in settings:
        chosen = settings.get("selection") or {}
        derived["selection"] = (
            "; ".join(f"{k}: {', '.join(v)}" for k, v in chosen.items()) or "all scenarios"
        )
    if "fuzz_examples" in settings:
        examples = settings.get("fuzz_examples") or 0
        derived["fuzzing"] = (
            f"{examples} examples per operation, seed {settings.get('fuzz_seed')}"
            if examples
            else "off"
        )
    if settings.get("demo_defects"):
        derived["reference KIC defects"] = ", ".join(settings["demo_defects"])
    return derived


def incomplete_reasons(run: Any) -> list[str]:
    """Why a run without failures is not a full certification (empty: complete, or unknown)."""
    return [str(r) for r in getattr(run, "incomplete_reasons", None) or []]


def interrupted(run: Any) -> bool:
    """True when the run was interrupted (Ctrl-C) and the reports cover what finished."""
    return bool(getattr(run, "interrupted", False))


def _mode_labels(mode: RunMode) -> dict[str, Any]:
    """A :class:`RunMode` in words, one label per aspect (what a reader needs, no reprs)."""
    drc = {"strict": "strict (calls the KIC back)", "lenient": "lenient (no call-back)"}
    labels: dict[str, Any] = {
        "mock DRC": drc.get(mode.drc, "none (kic-001 scenarios skipped)")
        + (
            ""
            if mode.drc == "none"
            else ", checks tokens"
            if mode.drc_checks_tokens
            else ", accepts any token"
        ),
        "narrow client": "given" if mode.narrow_client else "none",
        "scenarios": mode.scenarios,
        "contract": mode.contract,
        "selection": "; ".join(f"{k}: {', '.join(v)}" for k, v in mode.selection.items())
        or "all scenarios",
        "fuzzing": f"{mode.fuzz_examples} examples per operation, seed {mode.fuzz_seed}"
        if mode.fuzz_examples > 0
        else "off",
    }
    if mode.max_failures is not None:
        labels["max failures"] = mode.max_failures
    if not mode.preflight:
        labels["pre-flight"] = "skipped"
    return labels
