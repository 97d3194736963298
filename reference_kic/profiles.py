"""Answer profiles of the reference KIC: how it shapes what the contract and the VNG reference
implementation answer differently, where both are conformant (docs/compatibility.md).

``default`` answers by the letter of openapi.yaml: errors as ``application/problem+json``,
a ValidatieFout whose ``detail`` repeats its title, unset enum and object fields left out,
ETag and 304, a ValidatieFout for malformed JSON.

``vng`` answers like the VNG reference KIC (Django/DRF, 1.0.0-rc1) where the facts about it
(``kic-reference-behaviour.md``) document an observable convention that is not a defect:
``detail: ""`` in every ValidatieFout, ``initiatiefnemer: ""`` and
``productIdentificatie: {"code": ""}`` when unset, error bodies as plain ``application/json``,
DRF's Dutch default messages for 403/404/405/406/415, no ETag, a Fout without invalidParams
for malformed JSON, 403 for every authentication failure (as the default does), and Django's
HTML 404 without an API-version header for a path outside the routes (a trailing slash, a
path segment with a dot). Its defects (the 500s, the wrong mirror deleted; section 8 of the
facts) are not reproduced: a suite run against it must have no must-level failure.

One :class:`Profile` object carries everything; the KIC consults it at three points:
:func:`reference_kic.rendering.make_renderer` (:attr:`Profile.blank_fields`),
:func:`reference_kic.app.create_app` (:meth:`Profile.configure`, :meth:`Profile.install`) and
:class:`reference_kic.app.KicApp` (:meth:`Profile.middleware`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import falcon

from zgw.errors import (
    API_VERSION_HEADER,
    JSON,
    ApiError,
    InvalidParam,
    ValidationFailed,
    fout_body,
)

if TYPE_CHECKING:
    from .config import KicConfig

log = logging.getLogger(__name__)

#: Where the API lives; the framework page is only for paths under it.
_API_PREFIX = "/api/v1"

#: DRF's Dutch default details (``title``, ``detail``) by error code; ``{method}`` and
#: ``{media_type}`` stay unfilled in the title, as the reference sends them (facts §4.1).
_FRAMEWORK_MESSAGES: dict[str, tuple[str, str]] = {
    "permission_denied": (
        "Je hebt geen toestemming om deze actie uit te voeren.",
        "Je hebt geen toestemming om deze actie uit te voeren.",
    ),
    "not_found": ("Niet gevonden.", "Niet gevonden."),
    "method_not_allowed": (
        'Methode "{method}" niet toegestaan.',
        'Methode "{method}" niet toegestaan.',
    ),
    "not_acceptable": (
        "Kan niet voldoen aan de opgegeven Accept header.",
        "Kan niet voldoen aan de opgegeven Accept header.",
    ),
    "unsupported_media_type": (
        'Ongeldige media type "{media_type}" in aanvraag.',
        'Ongeldige media type "{media_type}" in aanvraag.',
    ),
}
#: DRF's field-validation texts, which the default KIC words in English, as the reference's
#: Dutch locale words them (by the English text; the KIC's own messages are left alone).
_FRAMEWORK_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(english), dutch)
    for english, dutch in (
        (r"This field is required\.", "Dit veld is vereist."),
        (r"This field may not be (null|blank)\.", "Dit veld mag niet leeg zijn."),
        (r"Not a valid string\.", "Geen geldige string."),
        (r"A valid integer is required\.", "Een geldig getal is vereist."),
        (r"Enter a valid URL\.", "Voer een geldige URL in."),
        (r"Enter a valid email address\.", "Voer een geldig e-mailadres in."),
        (r"Expected a list of items\.", "Verwachtte een lijst met items."),
        (r"Datetime has wrong format.*", "Datetime heeft een ongeldig formaat."),
        (r'"(?P<v>.*)" is not a valid choice\.', '"{v}" is een ongeldige keuze.'),
        (
            r"Ensure this field has no more than (?P<n>\d+) characters\.",
            "Zorg ervoor dat dit veld niet meer dan {n} karakters bevat.",
        ),
        (
            r"Ensure this field has at least (?P<n>\d+) characters\.",
            "Zorg ervoor dat dit veld minimaal {n} karakters bevat.",
        ),
        (
            r"Ensure this value is at most (?P<n>\d+)\.",
            "Zorg ervoor dat deze waarde kleiner is dan of gelijk is aan {n}.",
        ),
        (
            r"Ensure this value is at least (?P<n>\d+)\.",
            "Zorg ervoor dat deze waarde groter is dan of gelijk is aan {n}.",
        ),
    )
)
_NOT_FOUND_PAGE = (
    "<!doctype html>\n<html><head><title>Not Found</title></head><body>\n"
    "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    "</body></html>\n"
)


class UnknownProfile(ValueError):
    """A profile name that does not exist; the message lists the valid ones."""


@dataclass(frozen=True)
class Profile:
    """How a reference KIC answers where the contract and the VNG reference both conform."""

    name: str
    description: str
    #: collection -> field -> the value answered when the field is unset (else left out).
    blank_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Error bodies as application/json, ValidatieFout detail "", DRF's Dutch messages,
    #: Django's HTML 404 outside the routes.
    vng_errors: bool = False
    #: Behaviours the KIC already has a switch for (reference_kic/defects.py), by name.
    switches: frozenset[str] = frozenset()

    def configure(self, config: KicConfig) -> KicConfig:
        """``config`` with this profile's :attr:`switches` on (the same config when none)."""
        if not self.switches <= config.defects:
            return dataclasses.replace(config, defects=config.defects | self.switches)
        return config

    def blanks(self, collection: str) -> Mapping[str, Any]:
        """The values answered for unset fields of ``collection`` (see :attr:`blank_fields`)."""
        return self.blank_fields.get(collection, {})

    def middleware(self) -> list[Any]:
        """Middleware to register before every other (its ``process_response`` runs last)."""
        return [_FrameworkPageHeaders()] if self.vng_errors else []

    def install(self, app: falcon.App) -> None:
        """Register this profile's error rendering on ``app``, after :func:`zgw.errors.install`."""
        if not self.vng_errors:
            return
        app.add_error_handler(Exception, _vng_unexpected)
        app.add_error_handler(falcon.HTTPError, _vng_http_error)
        app.add_error_handler(ApiError, _vng_api_error)


def blank_value(value: Any) -> Any:
    """A fresh copy of a blank field value (answers never share a mutable object)."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


DEFAULT = Profile("default", "answers by the letter of openapi.yaml")
VNG = Profile(
    "vng",
    "answers like the VNG reference KIC where its documented conventions differ (no defects)",
    blank_fields={
        "contactmomenten": {"initiatiefnemer": ""},
        "verzoekproducten": {"productIdentificatie": {"code": ""}},
    },
    vng_errors=True,
    switches=frozenset({"etag-missing", "parse-error-fout"}),
)
PROFILES: dict[str, Profile] = {profile.name: profile for profile in (DEFAULT, VNG)}


def profile_named(name: str | Profile) -> Profile:
    """The profile called ``name``; :class:`UnknownProfile` lists the valid names."""
    if isinstance(name, Profile):
        return name
    profile = PROFILES.get(str(name).strip())
    if profile is None:
        raise UnknownProfile(f"unknown profile {name!r}; valid: {', '.join(PROFILES)}")
    return profile


# -- the vng profile's error rendering -------------------------------------------------------


def _outside_django_routes(path: str) -> bool:
    """A path the reference's router never reaches DRF with: a trailing slash below the API
    root, or a segment with a dot (DRF's lookup value is ``[^/.]+``)."""
    if not path.startswith(_API_PREFIX + "/"):
        return False
    rest = path[len(_API_PREFIX) + 1 :]
    return (rest.endswith("/") and rest != "") or any("." in s for s in rest.split("/"))


def _dutch(param: InvalidParam) -> dict[str, str]:
    """``param`` with DRF's English framework text in Dutch (other reasons unchanged)."""
    for english, dutch in _FRAMEWORK_REASONS:
        match = english.fullmatch(param.reason)
        if match:
            return InvalidParam(param.name, param.code, dutch.format(**match.groupdict())).as_dict()
    return param.as_dict()


def _framework_page(resp: falcon.Response) -> None:
    resp.status = falcon.HTTP_404
    resp.content_type = falcon.MEDIA_HTML
    resp.text = _NOT_FOUND_PAGE
    resp.data = None
    resp.context.framework_page = True


def _respond(
    req: falcon.Request,
    resp: falcon.Response,
    status: int,
    code: str,
    title: str,
    detail: str,
    invalid_params: Any = None,
) -> None:
    if _outside_django_routes(req.path):
        # Django's router answers these before DRF sees them: no auth, no 405, just its 404.
        _framework_page(resp)
        return
    if code in _FRAMEWORK_MESSAGES:
        title, detail = _FRAMEWORK_MESSAGES[code]
        media = (req.content_type or "").split(";")[0].strip()
        detail = detail.format(method=req.method, media_type=media)
    body = fout_body(req, status, code, title, detail)
    if invalid_params is not None:
        body["detail"] = ""  # DRF's ValidationError: detail is always "" (facts §4.1)
        body["invalidParams"] = [_dutch(p) for p in invalid_params]
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = JSON
    resp.text = json.dumps(body)
    resp.data = None


def _vng_api_error(req: falcon.Request, resp: falcon.Response, ex: ApiError, params: Any) -> None:
    invalid_params = ex.invalid_params if isinstance(ex, ValidationFailed) else None
    _respond(req, resp, ex.status, ex.code, ex.title, ex.detail, invalid_params)
    for name, value in ex.headers.items():
        resp.set_header(name, value)


def _vng_http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any
) -> None:
    status = int(ex.status_code)
    if isinstance(ex, falcon.HTTPRouteNotFound) and req.path.startswith(_API_PREFIX):
        _framework_page(resp)
        return
    as_api_error = ApiError(status, detail=str(ex.description or ex.title or ""))
    _respond(req, resp, status, as_api_error.code, as_api_error.title, as_api_error.detail)
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)


def _vng_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    error = ApiError(500, "error")
    _respond(req, resp, 500, error.code, error.title, "Internal Server Error")


class _FrameworkPageHeaders:
    """The framework's own 404 page carries no API-version header (facts §4.5)."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        if getattr(resp.context, "framework_page", False):
            resp.delete_header(API_VERSION_HEADER)
