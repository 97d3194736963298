"""Fixtures for the reference KIC's tests; the helpers they build on live in kic_testkit.

(Helpers are imported from ``kic_testkit``, never from ``conftest``: several test folders
have a conftest module and a plain ``from conftest import`` would pick any of them.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kic_testkit import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    Api,
    DrcDouble,
    ServedKic,
    drc_app,
    make_config,
)

from reference_kic.app import create_app
from reference_kic.config import DrcCredential
from zgw.serving import serve_in_thread


@pytest.fixture
def make_api(tmp_path: Any) -> Callable[..., Api]:
    def factory(**kwargs: Any) -> Api:
        return Api(create_app(make_config(tmp_path, **kwargs)))

    return factory


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def drc() -> Iterator[DrcDouble]:
    double = DrcDouble()
    with serve_in_thread(drc_app(double)) as server:
        double.url = server.url
        yield double
        double.release.set()


@pytest.fixture
def make_served_kic(tmp_path: Any, drc: DrcDouble) -> Iterator[Callable[..., ServedKic]]:
    """Start KICs (configured with credentials for the double) served in threads."""
    stack: list[Any] = []

    def factory(**kwargs: Any) -> ServedKic:
        kwargs.setdefault(
            "drc_credentials", [DrcCredential(drc.url + "/", DRC_CLIENT_ID, DRC_SECRET)]
        )
        config = make_config(tmp_path, **kwargs)
        context = serve_in_thread(create_app(config))
        server = context.__enter__()
        stack.append(context)
        kic = ServedKic(server)
        kic.db_path = config.db_path
        stack.append(kic)
        return kic

    yield factory
    for item in reversed(stack):
        if isinstance(item, ServedKic):
            item.http.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def kic(make_served_kic: Callable[..., ServedKic]) -> ServedKic:
    return make_served_kic()
