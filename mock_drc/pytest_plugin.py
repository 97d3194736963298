"""pytest plugin of the mock DRC: the function-scoped ``mock_drc`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_drc.testing import MockDrcHandle, running_mock_drc


@pytest.fixture
def mock_drc() -> Iterator[MockDrcHandle]:
    """A fresh, strict mock DRC on a free loopback port trusting ``kic:kic-secret``."""
    with running_mock_drc() as handle:
        yield handle
