"""The reference KIC's Falcon application factory (and the gunicorn entry point).

``create_app(config)`` builds a :class:`KicRuntime` (storage, the remote-API client, the
service and the kic-001 reconciler), starts it and returns the :class:`KicApp` serving it;
``get_app()`` does the same from ``KIC_*`` environment variables, for
``gunicorn 'reference_kic.app:get_app()'`` (each worker builds its own).

Ownership: the app owns its runtime (``app.runtime``) and the runtime owns the reconciler.
The reconciler's thread holds it only weakly, so it runs as long as the app exists, or until
``app.runtime.stop()``.
"""

from __future__ import annotations

import threading

import falcon

from zgw import errors

from .config import KicConfig
from .handlers import (
    CollectionResource,
    Context,
    ItemResource,
    MediaTypeIgnored,
    RootResource,
    SchemaResource,
    UpdatableItemResource,
    invalid_params_unnamed,
    not_found_500,
    unserved_method_404,
    validation_422,
)
from .kinds import KINDS
from .reconcile import Reconciler, run_in_background
from .remote import RemoteApis
from .rendering import make_renderer
from .service import KicService
from .storage import Store
from .urls import API_PREFIX

API_VERSION = "1.0.0-rc1"


class KicRuntime:
    """One KIC instance in one process: its store, service and reconciler (None when off)."""

    def __init__(self, config: KicConfig) -> None:
        self.config = config
        self.store = Store(config.db_path)
        self.service = KicService(config, self.store, RemoteApis(config))
        self.reconciler: Reconciler | None = None
        if config.reconcile_interval > 0:
            # settle: just over one DRC timeout, so a request the DRC still works on ends first.
            self.reconciler = Reconciler(
                self.service.drc,
                settle=self.service.drc.settle_seconds,
                stale=max(120.0, 10 * config.http_timeout),
            )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the reconciler's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the reconciler's rounds (every ``reconcile_interval`` seconds), once."""
        if self.reconciler is not None and self._thread is None and not self._stop.is_set():
            self._thread = run_in_background(
                self.reconciler, self.config.reconcile_interval, self._stop
            )

    def stop(self, timeout: float | None = None) -> None:
        """End the reconciler's rounds; waits up to ``timeout`` s for a round under way.

        A stopped runtime stays stopped; its app still serves requests.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


class KicApp(falcon.App):
    """The KIC's WSGI app; it owns its :class:`KicRuntime` (see the module docstring)."""

    def __init__(self, runtime: KicRuntime) -> None:
        # The profile's middleware comes first, so its response step runs after every other.
        middleware = runtime.config.profile.middleware()
        if runtime.config.defects.media_type_ignored:
            # Before zgw.errors' negotiation (added after this), which it blinds.
            middleware.append(MediaTypeIgnored())
        super().__init__(media_type=falcon.MEDIA_JSON, middleware=middleware)
        self.runtime = runtime


def create_app(config: KicConfig) -> KicApp:
    """A WSGI app serving the KIC API under ``/api/v1`` with ``config``, its runtime started."""
    config = config.profile.configure(config)
    runtime = KicRuntime(config)
    app = KicApp(runtime)
    # Keep ``?verzoek=`` so an empty filter value is refused rather than silently dropped.
    app.req_options.keep_blank_qs_values = True
    errors.install(app, API_VERSION, exempt_prefixes=(f"{API_PREFIX}/schema/",))
    config.profile.install(app)
    if config.defects.validation_422:
        app.add_error_handler(errors.ValidationFailed, validation_422)
    elif config.defects.invalid_params_unnamed:
        app.add_error_handler(errors.ValidationFailed, invalid_params_unnamed)
    if config.defects.not_found_500:
        app.add_error_handler(errors.ApiError, not_found_500)
    if config.defects.unserved_method_404:
        app.add_error_handler(falcon.HTTPMethodNotAllowed, unserved_method_404)

    ctx = Context(config, runtime.store, runtime.service)
    for kind in KINDS.values():
        render = make_renderer(kind, config.defects, config.profile)
        item_class = UpdatableItemResource if kind.updatable else ItemResource
        app.add_route(f"{API_PREFIX}/{kind.collection}", CollectionResource(kind, ctx, render))
        app.add_route(f"{API_PREFIX}/{kind.collection}/{{uuid}}", item_class(kind, ctx, render))
    root = RootResource(ctx)
    app.add_route(f"{API_PREFIX}/", root)
    app.add_route(API_PREFIX, root)
    app.add_route(f"{API_PREFIX}/schema/openapi.{{fmt}}", SchemaResource(ctx))
    runtime.start()
    return app


def get_app() -> KicApp:
    """The app configured from the environment (KIC_DB, KIC_CONFIG, ...)."""
    return create_app(KicConfig.from_env())
