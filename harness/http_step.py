"""The HTTP side of one scenario: a step's request goes out, and every exchange is recorded.

:class:`CaseHttp` sends through the run's shared client and appends each
:class:`~harness.transport.Exchange` to its case, for a step's own request
(:meth:`CaseHttp.exchange`, which also reads the state a refused write must leave unchanged
before sending it) and for the reads the checks make on the way (:meth:`CaseHttp.follow`,
:meth:`CaseHttp.kic_relations`). What a step's response is judged by stays with
:mod:`harness.runner` and :data:`harness.checks.RESPONSE_CHECKS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from harness import checks
from harness.compare import under
from harness.config import RunConfig
from harness.request import build_request
from harness.results import CaseResult
from harness.scenarios import Step
from harness.spec import Spec
from harness.transport import Response, send


@dataclass
class CaseHttp:
    """Sends a scenario's requests with the run's client and records them in ``case``."""

    client: httpx.Client
    config: RunConfig
    spec: Spec
    case: CaseResult

    def exchange(self, step: Step, data: dict[str, Any], unique: str) -> checks.StepExchange:
        """Send the request of the ``call``/``request`` step ``step`` (rendered as ``data``)
        and return what its checks look at; ``unique`` is the scenario's own token."""
        request = build_request(step.kind, data, self.spec, self.config)
        probe = checks.probe_url(
            request.method, request.url, data, self.spec, self.config.target, unique
        )
        before = checks.take_snapshot(probe, self.follow) if probe else None
        response, exchange = send(
            self.client,
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            timeout=self.config.timeout,
            max_body_bytes=self.config.max_body_bytes,
            operation_id=request.operation.operation_id if request.operation else None,
        )
        self.case.exchanges.append(exchange)
        return checks.StepExchange(
            step=step,
            request=data,
            response=response,
            index=len(self.case.exchanges) - 1,
            exchanges=tuple(self.case.exchanges),
            spec=self.spec,
            operation=request.operation,
            api_root=self.config.target,
            follow=self.follow,
            before=before,
        )

    def follow(self, url: str) -> tuple[Response, int] | None:
        """GET ``url`` with the main client for an invariant (the read after a write, the state
        around a refused one), recorded as an exchange of the case. None for a URL outside
        the API root: the token goes nowhere else."""
        if not under(url, self.config.target):
            return None
        headers = {"Accept": "application/json"}
        authorization = self.config.authorization("default")
        if authorization is not None:
            headers["Authorization"] = authorization
        relative = url[len(self.config.target) :] if url.startswith(self.config.target) else ""
        operation = self.spec.find_operation("GET", relative) if relative else None
        response, exchange = send(
            self.client,
            "GET",
            url,
            headers=headers,
            timeout=self.config.timeout,
            max_body_bytes=self.config.max_body_bytes,
            operation_id=operation.operation_id if operation else None,
        )
        self.case.exchanges.append(exchange)
        return response, len(self.case.exchanges) - 1

    def kic_relations(self, verzoek: str) -> tuple[list[Any] | None, str | None]:
        """The KIC's verzoekinformatieobjecten of ``verzoek``, as the main client lists them
        (recorded as an exchange of the case); or None and why not."""
        url = f"{self.config.target}/verzoekinformatieobjecten?verzoek={quote(verzoek, safe='')}"
        followed = self.follow(url)
        if followed is None:
            return None, f"cannot list {url}"
        response, _ = followed
        if response.status != 200:
            return None, f"the KIC answered {response.status or response.error} to GET {url}"
        parsed, body = response.json()
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            body = body["results"]
        if not parsed or not isinstance(body, list):
            return None, f"the KIC's answer to GET {url} is not a JSON list"
        return body, None
