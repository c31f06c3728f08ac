"""Per-kernel tokens: how code in a kernel (widgets, magics, MLflow's own client) reaches this
extension's API and a managed group's MLflow.

The provisioner gives each kernel the server's URL and a fresh random token
(`JUPYTER_MLFLOW_GROUPS_URL`, `JUPYTER_MLFLOW_GROUPS_TOKEN`), never the server's own token. A
kernel sends it in the `X-Mlflow-Groups-Token` header, or, as MLflow's client sends
`MLFLOW_TRACKING_TOKEN` (which a managed group's kernels get), as `Authorization: Bearer`. The
token authenticates as the server's owner and authorizes only this extension's routes
(`mlflow_groups` resource): every other Jupyter endpoint refuses it. It is replaced at each
restart and revoked when the kernel shuts down. Only a hash of each token is kept in memory;
nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from jupyter_server.auth import Authorizer, IdentityProvider, User

from .contract import TOKEN_HEADER

KERNEL_IDENTITY_KEY = "mlflow_groups_kernel_identity"
KERNEL_AUTHORIZER_KEY = "mlflow_groups_kernel_authorizer"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class KernelTokens:
    """Issues, checks and revokes the tokens of running kernels."""

    def __init__(self) -> None:
        self._owners: dict[str, tuple[str, str]] = {}  # digest -> (kernel id, user)
        self._lock = threading.Lock()

    def issue(self, kernel_id: str, user: str) -> str:
        """A new token for a kernel (any earlier one of that kernel stops working)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._revoke(kernel_id)
            self._owners[_digest(token)] = (kernel_id, user)
        return token

    def revoke(self, kernel_id: str) -> None:
        with self._lock:
            self._revoke(kernel_id)

    def user_of(self, token: str) -> str | None:
        owner = self._owners.get(_digest(token))
        return owner[1] if owner else None

    def _revoke(self, kernel_id: str) -> None:
        for digest in [d for d, (kernel, _) in self._owners.items() if kernel == kernel_id]:
            del self._owners[digest]


class KernelTokenIdentity(IdentityProvider):
    """Authenticates requests that carry a kernel token; used only for this extension's handlers."""

    def __init__(self, tokens: KernelTokens, **kwargs: Any) -> None:
        super().__init__(token="", **kwargs)
        self.tokens = tokens

    def get_user(self, handler: Any) -> User | None:
        user = self.tokens.user_of(kernel_token(handler.request.headers) or "")
        if user is None:
            self.log.warning(
                "MLflow groups: refused a kernel token that is not (or no longer) valid"
            )
            return None
        handler._token_authenticated = True  # a header token, not a cookie: no XSRF check needed
        return User(username=user, name=user)

    def is_token_authenticated(self, handler: Any) -> bool:
        return bool(getattr(handler, "_token_authenticated", False))


class KernelTokenAuthorizer(Authorizer):
    """A kernel token may use this extension's API (its auth resource), and nothing else."""

    def __init__(self, resource: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource = resource

    def is_authorized(self, handler: Any, user: User, action: str, resource: str) -> bool:
        return resource == self.resource


def kernel_token(headers: Any) -> str | None:
    """The kernel token a request carries, if any: in our header, or as a Bearer token (how
    MLflow's client sends MLFLOW_TRACKING_TOKEN); a Bearer token may also be Jupyter's own."""
    token = headers.get(TOKEN_HEADER)
    if token:
        return token
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class KernelTokenAuth:
    """For our handlers: a kernel's token is checked by our own identity provider and
    authorizer; anything else (a browser's cookie, Jupyter's token) by Jupyter's."""

    request: Any
    settings: Any

    def _carries_kernel_token(self) -> bool:
        """Our header always means a kernel; a Bearer token only when it is a kernel's."""
        token = kernel_token(self.request.headers)
        if token is None:
            return False
        tokens: KernelTokens = self.settings[KERNEL_IDENTITY_KEY].tokens
        return TOKEN_HEADER in self.request.headers or tokens.user_of(token) is not None

    @property
    def identity_provider(self) -> Any:
        if self._carries_kernel_token():
            return self.settings[KERNEL_IDENTITY_KEY]
        return super().identity_provider  # type: ignore[misc]

    @property
    def authorizer(self) -> Any:
        if self._carries_kernel_token():
            return self.settings[KERNEL_AUTHORIZER_KEY]
        return super().authorizer  # type: ignore[misc]
