"""The mock DRC's Falcon app factory: wires the store, the resources and the middleware.

One server hosts the Documenten API at ``/documenten/api/v1/``, the Zaken API subset at
``/zaken/api/v1/`` and the control API at ``/_mock/``. Everything an app uses lives in its
own state, config and call-back checker; nothing is shared at module level, so several mock
DRCs can run side by side in one process.
"""

from __future__ import annotations

import falcon

from mock_drc import control_api
from mock_drc.callback import CallbackChecker
from mock_drc.config import API_VERSION, DrcConfig
from mock_drc.documents_api import DocumentCollection, DocumentItem, MirrorCollection, MirrorItem
from mock_drc.paths import CONTROL_ROOT, DOCUMENTS_ROOT, NEGOTIATION_EXEMPT, ZAKEN_ROOT
from mock_drc.recording import RecordingMiddleware
from mock_drc.schema_docs import SchemaDocument
from mock_drc.store import DrcState
from mock_drc.zaken_api import ZaakItem, ZaakLinkCollection
from zgw import errors


class _BindBaseUrl:
    """Tells the state its public base URL on the first request, when nobody did before."""

    def __init__(self, state: DrcState) -> None:
        self.state = state

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.state.base_url is None:
            self.state.bind(req.prefix)


def create_app(
    config: DrcConfig | None = None,
    state: DrcState | None = None,
    *,
    callbacks: CallbackChecker | None = None,
) -> falcon.App:
    """A mock DRC app; give ``state`` to share or inspect it, ``config`` to change behaviour,
    ``callbacks`` to close its call-back client when done (one of its own otherwise)."""
    config = config or DrcConfig()
    state = state if state is not None else DrcState()
    callbacks = callbacks if callbacks is not None else CallbackChecker()
    if config.public_base_url:
        state.bind(config.public_base_url)
    app = falcon.App(middleware=[RecordingMiddleware(state, config), _BindBaseUrl(state)])
    app.req_options.keep_blank_qs_values = True
    app.req_options.strip_url_path_trailing_slash = True
    errors.install(app, API_VERSION, exempt_prefixes=NEGOTIATION_EXEMPT)

    docs = DOCUMENTS_ROOT
    app.add_route(docs + "enkelvoudiginformatieobjecten", DocumentCollection(state, config))
    app.add_route(docs + "enkelvoudiginformatieobjecten/{uuid}", DocumentItem(state, config))
    app.add_route(docs + "objectinformatieobjecten", MirrorCollection(state, config, callbacks))
    app.add_route(docs + "objectinformatieobjecten/{uuid}", MirrorItem(state, config, callbacks))
    app.add_route(docs + "schema/{filename}", SchemaDocument(config, "documenten"))

    zaken = ZAKEN_ROOT
    app.add_route(zaken + "zaken/{uuid}", ZaakItem(state, config))
    app.add_route(zaken + "zaakcontactmomenten", ZaakLinkCollection(state, config, "contactmoment"))
    app.add_route(zaken + "zaakverzoeken", ZaakLinkCollection(state, config, "verzoek"))
    app.add_route(zaken + "schema/{filename}", SchemaDocument(config, "zaken"))

    control_api.add_routes(app, CONTROL_ROOT, state, config)
    return app
