"""What a scenario's DRC steps do, and what a case that did not pass keeps of the DRC's journal.

A ``drc`` step acts on the mock DRC (:func:`perform`: create a document or zaak, link or unlink
one, add or clear a fault, find or remove mirrors); a ``drc_expect`` step is judged by the
checks of :data:`harness.checks.DRC_CHECKS` (:func:`judge`), with a few retries for a positive
expectation, since the KIC may still be calling the DRC back. :func:`case_journal` picks the
journal entries about a scenario's own objects. :mod:`harness.runner` calls these for each step;
every DRC call goes through :class:`~harness.drc_control.DrcControl`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from harness import checks
from harness.config import MissingCapability
from harness.drc_control import DrcControl, DrcControlError, documents_path
from harness.results import CheckResult, Level
from harness.scenarios import BUILTIN_VARS

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


def choose_drc(first: DrcControl | None, second: DrcControl | None, which: str) -> DrcControl:
    """The DRC a step's ``on_drc`` names (``first`` or ``second``); a run without it makes the
    step's case skipped (:class:`~harness.config.MissingCapability`)."""
    if first is None:
        raise MissingCapability("drc")
    if which == "second":
        if second is None:
            raise MissingCapability("second-drc")
        return second
    return first


def perform(drc: DrcControl, data: dict[str, Any]) -> Any:
    """Do what the rendered ``drc`` step ``data`` asks; return what its ``save`` reads."""
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
    return result


def judge(
    expect: dict[str, Any], level: Level, view: Callable[[], checks.DrcView]
) -> Iterator[CheckResult]:
    """The result of each check of the rendered ``drc_expect`` mapping, one at a time.

    ``view`` makes a fresh look at the DRC for each attempt (a view reads the journal once).
    A positive expectation is tried up to :data:`POSITIVE_DRC_RETRIES` times, and an entry with
    patience keeps trying until its deadline: the KIC may still be on its way to the DRC.
    """
    for entry in checks.DRC_CHECKS:
        if entry.key not in expect:
            continue
        value = expect[entry.key]
        attempts = POSITIVE_DRC_RETRIES if entry.eventually(value) else 1
        patience = entry.patience(value) if entry.patience is not None else 0.0
        deadline = time.monotonic() + patience
        attempt = 0
        while True:
            result = entry.check(view(), value, level)
            attempt += 1
            if result.passed or (attempt >= attempts and time.monotonic() >= deadline):
                break
            time.sleep(POSITIVE_DRC_PAUSE)
        yield result


def mentioned_urls(variables: dict[str, Any]) -> list[str]:
    """The URLs a scenario saved (its documents, verzoeken, relations ...); the API roots are
    left out, since every scenario's requests mention them."""
    return [
        value
        for name, value in variables.items()
        if name not in BUILTIN_VARS
        and isinstance(value, str)
        and value.startswith(("http://", "https://"))
    ][:MAX_MENTIONS]


def case_journal(
    urls: list[str],
    variables: dict[str, Any],
    drc: DrcControl,
    since: int | None,
    second: DrcControl | None = None,
    second_since: int | None = None,
) -> list[dict[str, Any]]:
    """The DRCs' journal entries about ``urls`` (correlated by the URLs a scenario saved, not by
    time), with the call-backs the DRC made and the KIC's answers; each says which of the
    scenario's ``variables`` it was ``about``. A journal that cannot be read gives one entry
    saying so."""
    try:
        entries = drc.journal(since=since, mentions=urls)
        if second is not None:
            # The second DRC's entries say so: their ids are its own.
            entries += [
                {**entry, "drc": "second"}
                for entry in second.journal(since=second_since, mentions=urls)
            ]
    except DrcControlError as exc:
        return [{"error": f"the DRC journal could not be read: {exc}"}]
    names = {url: name for name, url in variables.items() if url in urls}
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
    return kept


def _mirror_filter(data: dict[str, Any]) -> dict[str, Any]:
    """The ``object`` / ``informatieobject`` a ``remove_mirrors`` or ``find_mirrors`` step names."""
    return {k: data[k] for k in ("object", "informatieobject") if k in data}


def _named(names: dict[str, str], *parts: Any) -> list[str]:
    """The scenario variables (``doc``, ``verzoek``) whose URL occurs in ``parts``, as they
    are or URL-encoded (a call-back's query), so a journal entry says what it was about."""
    text = json.dumps(parts, default=str)
    return [name for url, name in names.items() if url in text or quote(url, safe="") in text]
