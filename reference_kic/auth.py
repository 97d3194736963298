"""Who may call the reference KIC: ZGW JWT verification plus the configured scopes.

Every failure is a 403 with the reference's code (the reference never answers 401): no or
malformed token, unknown client, bad signature, expired, not yet valid, missing scope.
The ``accept-token:<variant>`` defects let one kind of wrong token through (:func:`variant_of`).
"""

from __future__ import annotations

import falcon
import jwt as pyjwt

from zgw.errors import ApiError
from zgw.jwt import Client, TokenRejected, verify_authorization

from .config import KicConfig

READ = "klanten.lezen"
CREATE = "klanten.aanmaken"
UPDATE = "klanten.bijwerken"
DELETE = "klanten.verwijderen"


class Authorizer:
    """Checks a request's token and the scope its action needs."""

    def __init__(self, config: KicConfig) -> None:
        self.clients: dict[str, Client] = dict(config.clients)
        self.check_tokens = not config.defects.auth_not_checked
        self.check_scopes = not config.defects.scope_not_enforced
        self.accepted_tokens = config.defects.accepted_tokens

    def require(self, req: falcon.Request, scope: str) -> None:
        """Raise a 403 ApiError unless the request's client holds ``scope``."""
        if not self.check_tokens:
            return
        try:
            client = verify_authorization(req.get_header("Authorization"), self.clients)
        except TokenRejected as exc:
            if variant_of(req.get_header("Authorization"), exc) in self.accepted_tokens:
                return
            raise ApiError(403, exc.code, exc.detail) from None
        if self.check_scopes and scope not in client.scopes:
            raise ApiError(
                403,
                "permission_denied",
                f"Client {client.client_id!r} lacks the scope {scope!r} for this action.",
            )


def variant_of(authorization: str | None, rejected: TokenRejected) -> str:
    """Which kind of wrong token ``rejected`` refused, named as the ``accept-token`` defects
    name them (reference_kic/defects.py: TOKEN_VARIANTS)."""
    if not authorization or not authorization.startswith("Bearer "):
        return "no-token"
    if rejected.code == "invalid-client-identifier":
        return "unknown-client"
    if rejected.code == "jwt-expired":
        return "expired-token"
    if rejected.code == "invalid-jwt-signature":
        try:
            algorithm = pyjwt.get_unverified_header(authorization[len("Bearer ") :].strip())
        except pyjwt.PyJWTError:
            return "invalid-token"
        return "alg-none" if str(algorithm.get("alg")).lower() == "none" else "wrong-secret"
    return "invalid-token"
