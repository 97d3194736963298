"""The settings of one conformance run (:class:`RunConfig`) and which scenarios it selects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_FUZZ_SEED = 20201
DEFAULT_MAX_BODY_BYTES = 2_000_000


@dataclass
class Selection:
    """Which scenarios run: include filters (any match) minus exclude filters (any match).

    Empty include lists select everything. ``operations`` match the operationIds a scenario
    calls; ``tags`` match its tags (folder name included) and its rule; ``ids`` match exactly.
    """

    tags: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    exclude_ids: list[str] = field(default_factory=list)
    exclude_operations: list[str] = field(default_factory=list)

    def selects(self, scenario: Any) -> bool:
        """True when ``scenario`` (a :class:`harness.scenarios.Scenario`) is selected."""
        labels = {*scenario.tags, scenario.rule}
        ops = set(scenario.operations)
        if scenario.id in self.exclude_ids or labels & set(self.exclude_tags):
            return False
        if ops & set(self.exclude_operations):
            return False
        includes = [
            (self.tags, bool(labels & set(self.tags))),
            (self.ids, scenario.id in self.ids),
            (self.operations, bool(ops & set(self.operations))),
        ]
        active = [hit for wanted, hit in includes if wanted]
        return all(active) if active else True

    def describe(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class RunConfig:
    """Everything one run needs: the target, credentials, the DRC, limits, fuzzing, selection.

    ``target`` is the KIC's API root (``http://host:port/api/v1``). ``drc_url`` is the base URL
    of a mock DRC (its control API lives under ``/_mock/``); ``None`` skips scenarios that need
    it, with that reason.
    """

    target: str
    client_id: str
    secret: str
    narrow_client: tuple[str, str] | None = None
    drc_url: str | None = None
    timeout: float = 10.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    fuzz_examples: int = 25
    fuzz_seed: int = DEFAULT_FUZZ_SEED
    selection: Selection = field(default_factory=Selection)
    spec_path: Path | None = None
    scenario_paths: list[Path] | None = None
    workers: int = 4
    #: Capabilities the environment offers beyond the DRC (e.g. "zaken"); None = derive.
    capabilities: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self.target = self.target.rstrip("/")
        if self.drc_url:
            self.drc_url = self.drc_url.rstrip("/")

    @property
    def documents_root(self) -> str | None:
        """The mock DRC's Documenten API root, or None without a DRC."""
        return f"{self.drc_url}/documenten/api/v1" if self.drc_url else None

    @property
    def zaken_root(self) -> str | None:
        """The mock DRC's Zaken API root, or None without a DRC."""
        return f"{self.drc_url}/zaken/api/v1" if self.drc_url else None

    def available_capabilities(self) -> frozenset[str]:
        """What scenarios may ``require``: drc, zaken, narrow-client."""
        if self.capabilities is not None:
            return self.capabilities
        caps = set()
        if self.drc_url:
            caps |= {"drc", "zaken"}
        if self.narrow_client:
            caps.add("narrow-client")
        return frozenset(caps)

    def describe(self) -> dict[str, Any]:
        """Settings worth keeping in a report (no secrets)."""
        return {
            "target": self.target,
            "client_id": self.client_id,
            "narrow_client_id": self.narrow_client[0] if self.narrow_client else None,
            "drc_url": self.drc_url,
            "timeout": self.timeout,
            "max_body_bytes": self.max_body_bytes,
            "fuzz_examples": self.fuzz_examples,
            "fuzz_seed": self.fuzz_seed,
            "selection": self.selection.describe(),
            "spec_path": str(self.spec_path) if self.spec_path else None,
            "scenario_paths": [str(p) for p in self.scenario_paths or []],
        }
