"""JWT checks for the DRC and zaken endpoints: the ZGW token, then the operation's scope."""

from __future__ import annotations

import falcon

from mock_drc.config import DrcConfig
from zgw.errors import ApiError
from zgw.jwt import TokenRejected, verify_authorization


def _authenticate(req: falcon.Request, config: DrcConfig) -> frozenset[str] | None:
    """The caller's scopes (None = unrestricted); 403 with the ZGW code for a bad token."""
    if config.accept_any_token:
        return None
    try:
        client = verify_authorization(req.get_header("Authorization"), config.clients)
    except TokenRejected as exc:
        raise ApiError(403, exc.code, exc.detail) from None
    # A client configured without scopes may do everything (quick local set-ups).
    return client.scopes or None


def require_scope(req: falcon.Request, config: DrcConfig, scope: str) -> None:
    """Refuse with 403 unless the request carries a valid token for a client with ``scope``."""
    scopes = _authenticate(req, config)
    if scopes is not None and scope not in scopes:
        raise ApiError(403, "permission_denied", f"This client lacks the scope {scope!r}.")


def may_read(req: falcon.Request, config: DrcConfig, scope: str) -> bool:
    """For lists: refuse a bad token with 403, but report a missing read scope as False,
    because a real DRC answers such a client with an empty list."""
    scopes = _authenticate(req, config)
    return scopes is None or scope in scopes
