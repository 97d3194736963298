"""The reference KIC's Falcon application factory (and the gunicorn entry point).

``create_app(config)`` wires storage, the remote-API client, the service and the routes;
``get_app()`` does the same from ``KIC_*`` environment variables, for
``gunicorn 'reference_kic.app:get_app()'``. Each app starts its kic-001 reconciler thread
(see reconcile.py) unless ``reconcile_interval`` is 0.
"""

from __future__ import annotations

import falcon

from zgw import errors

from .config import KicConfig
from .handlers import (
    CollectionResource,
    Context,
    ItemResource,
    RootResource,
    SchemaResource,
    UpdatableItemResource,
    validation_422,
)
from .kinds import KINDS
from .reconcile import Reconciler, start_in_background
from .remote import RemoteApis
from .rendering import make_renderer
from .service import KicService
from .storage import Store
from .urls import API_PREFIX

API_VERSION = "1.0.0-rc1"


def create_app(config: KicConfig) -> falcon.App:
    """A WSGI app serving the KIC API under ``/api/v1`` with ``config``."""
    store = Store(config.db_path)
    service = KicService(config, store, RemoteApis(config))
    ctx = Context(config, store, service)
    if config.reconcile_interval > 0:
        # settle: just over one DRC timeout, so a request the DRC still works on ends first.
        service.reconciler = Reconciler(
            service.drc,
            settle=config.http_timeout + 1.0,
            stale=max(120.0, 10 * config.http_timeout),
        )
        start_in_background(service.reconciler, config.reconcile_interval)

    app = falcon.App(media_type=falcon.MEDIA_JSON)
    # Keep ``?verzoek=`` so an empty filter value is refused rather than silently dropped.
    app.req_options.keep_blank_qs_values = True
    errors.install(app, API_VERSION, exempt_prefixes=(f"{API_PREFIX}/schema/",))
    if config.defects.validation_422:
        app.add_error_handler(errors.ValidationFailed, validation_422)

    for kind in KINDS.values():
        render = make_renderer(kind, config.defects)
        item_class = UpdatableItemResource if kind.updatable else ItemResource
        app.add_route(f"{API_PREFIX}/{kind.collection}", CollectionResource(kind, ctx, render))
        app.add_route(f"{API_PREFIX}/{kind.collection}/{{uuid}}", item_class(kind, ctx, render))
    root = RootResource(ctx)
    app.add_route(f"{API_PREFIX}/", root)
    app.add_route(API_PREFIX, root)
    app.add_route(f"{API_PREFIX}/schema/openapi.{{fmt}}", SchemaResource(ctx))
    return app


def get_app() -> falcon.App:
    """The app configured from the environment (KIC_DB, KIC_CONFIG, ...)."""
    return create_app(KicConfig.from_env())
