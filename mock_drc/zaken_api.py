"""The few Zaken API endpoints a KIC consults for objectcontactmomenten/objectverzoeken:
zaak read, and the zaakcontactmomenten / zaakverzoeken lists (plain arrays, exact filters)."""

from __future__ import annotations

import falcon

from mock_drc.auth import may_read, require_scope
from mock_drc.common import answer_json, reject_unknown_params, single_param
from mock_drc.config import ZAKEN_LEZEN, DrcConfig
from mock_drc.store import DrcState
from zgw.errors import ApiError


class ZaakItem:
    """``zaken/{uuid}``: read, with the ``Content-Crs`` header a ZRC sends."""

    def __init__(self, state: DrcState, config: DrcConfig) -> None:
        self.state = state
        self.config = config

    def on_get(self, req: falcon.Request, resp: falcon.Response, uuid: str) -> None:
        require_scope(req, self.config, ZAKEN_LEZEN)
        zaak = self.state.zaak(uuid)
        if zaak is None:
            raise ApiError(404, "not_found", f"No zaak {uuid}.")
        req.context.resource = zaak
        answer_json(resp, zaak)
        resp.set_header("Content-Crs", "EPSG:4326")


class ZaakLinkCollection:
    """``zaakcontactmomenten`` (kind ``contactmoment``) or ``zaakverzoeken`` (``verzoek``)."""

    def __init__(self, state: DrcState, config: DrcConfig, kind: str) -> None:
        self.state = state
        self.config = config
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        readable = may_read(req, self.config, ZAKEN_LEZEN)  # the token before the query
        reject_unknown_params(req, {"zaak", self.kind})
        if not readable:
            answer_json(resp, [])
            return
        answer_json(
            resp,
            self.state.links(
                self.kind, zaak=single_param(req, "zaak"), other=single_param(req, self.kind)
            ),
        )
