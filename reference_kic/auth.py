"""Who may call the reference KIC: ZGW JWT verification plus the configured scopes.

Every failure is a 403 with the reference's code (the reference never answers 401): no or
malformed token, unknown client, bad signature, expired, not yet valid, missing scope.
"""

from __future__ import annotations

import falcon

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

    def require(self, req: falcon.Request, scope: str) -> None:
        """Raise a 403 ApiError unless the request's client holds ``scope``."""
        if not self.check_tokens:
            return
        try:
            client = verify_authorization(req.get_header("Authorization"), self.clients)
        except TokenRejected as exc:
            raise ApiError(403, exc.code, exc.detail) from None
        if self.check_scopes and scope not in client.scopes:
            raise ApiError(
                403,
                "permission_denied",
                f"Client {client.client_id!r} lacks the scope {scope!r} for this action.",
            )
