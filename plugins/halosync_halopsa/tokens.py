"""OAuth2 client credentials for HaloPSA: discovery, the token request, caching and refresh.

The authorisation server is ``auth_url`` when configured, else what ``GET /api/authinfo`` names, else
``<base_url>/auth``; the token is requested at ``<auth server>/token`` (with ``?tenant=`` for hosted instances).
A token is reused until shortly before it expires (a tenth of its life, at most a minute, early) and replaced
once when the API answers 401. The token and the secret never appear in a log line or a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import trio

from halosync.plugin import AuthError, ProviderError, check_provider_url
from halosync_halopsa.answers import PROVIDER, NotFound, body_of
from halosync_halopsa.settings import HaloSettings


class AuthTransport(Protocol):
    """What a token source needs of the API client (``HaloClient`` has it): the settings, the instance's address
    and unauthenticated requests through the client's retries and rate limiting. The client owns its token source,
    so this module must not depend on the client's class."""

    @property
    def settings(self) -> HaloSettings: ...
    @property
    def base_url(self) -> str: ...

    async def send(self, method: str, route: str, path: str, *, form: Mapping[str, str] | None = None,
                   url: str | None = None, auth: bool = True) -> httpx.Response: ...


@dataclass(frozen=True)
class Grant:
    token: str
    expires_at: float  # trio clock
    scope: str
    lifetime: float


class TokenSource:
    def __init__(self, client: AuthTransport) -> None:
        self._client = client
        self._grant: Grant | None = None
        self._token_url: str | None = None
        self._lock = trio.Lock()
        self.issued = 0  # tokens obtained since start

    @property
    def grant(self) -> Grant | None:
        return self._grant

    def stale(self) -> bool:
        """Whether the current token is gone or within seconds of expiring (too late to send)."""
        return self._grant is None or trio.current_time() >= self._grant.expires_at - 5.0

    def invalidate(self) -> None:
        self._grant = None

    async def get(self) -> str:
        async with self._lock:  # one refresh at a time; the others reuse its token
            grant = self._grant
            if grant is None or trio.current_time() >= grant.expires_at - min(60.0, grant.lifetime / 10):
                grant = self._grant = await self.request()
            return grant.token

    async def token_url(self) -> str:
        """Where tokens come from: configured, discovered through /api/authinfo, or the on-premise default."""
        if self._token_url is None:
            settings = self._client.settings
            auth_url, tenant = settings.auth_url, settings.tenant
            if not auth_url:
                info = await self.discover()
                auth_url = str(info.get("auth_url") or f"{self._client.base_url}/auth")
                tenant = tenant or str(info.get("tenant_id") or "")
            problem = check_provider_url(auth_url)
            if problem:
                raise AuthError(PROVIDER, f"authinfo: the authorisation server {problem}; set plugins.halopsa.auth_url")
            url = auth_url.rstrip("/") + "/token"
            self._token_url = f"{url}?tenant={tenant}" if tenant else url
        return self._token_url

    async def discover(self) -> dict[str, Any]:
        try:
            response = await self._client.send("GET", "/api/authinfo", "/api/authinfo", auth=False)
        except NotFound:
            return {}  # older instances: the authorisation server is at <base_url>/auth
        info = body_of(response)
        return info if isinstance(info, dict) else {}

    async def request(self) -> Grant:
        settings = self._client.settings
        url = await self.token_url()
        form = {"grant_type": "client_credentials", "client_id": settings.client_id,
                "client_secret": settings.client_secret, "scope": settings.scope}
        try:
            response = await self._client.send("POST", "/auth/token", "", url=url, form=form, auth=False)
        except AuthError:
            raise AuthError(PROVIDER, "token: the authorisation server refused client_id/client_secret "
                                      "(invalid_client); check plugins.halopsa.client_id, client_secret and tenant "
                                      "against Configuration > Integrations > HaloPSA API > View Applications",
                            status=401) from None
        except ProviderError as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                raise AuthError(PROVIDER, f"token: {_oauth_reason(exc)}", status=exc.status) from None
            raise
        body = body_of(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError(PROVIDER, "token: the answer holds no access_token; check plugins.halopsa.auth_url")
        lifetime = float(body.get("expires_in") or 3600)
        self.issued += 1
        return Grant(str(body["access_token"]), trio.current_time() + lifetime, str(body.get("scope") or ""),
                     lifetime)


def _oauth_reason(exc: ProviderError) -> str:
    text = str(exc)
    if "invalid_scope" in text:
        return ("the requested scope was refused (invalid_scope); set plugins.halopsa.scope to scopes the API "
                "application allows (e.g. \"all\" or \"edit:customers edit:crm\")")
    if "tenant" in text:
        return f"{text}; check plugins.halopsa.tenant (your hosted instance's tenant name)"
    return f"{text}; check plugins.halopsa.client_id, scope and tenant"
