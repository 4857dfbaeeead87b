"""Lusha's REST API over httpx: the key header, quota scheduling from the rate headers, backoff and clear errors.

Every answer carries nine quota headers (``x-rate-limit-{minute,hourly,daily}``, ``x-{minute,hourly,daily}-usage``,
``x-{minute,hourly,daily}-requests-left``); they feed one ``HeaderQuota``, and each request first waits until no
window would be exhausted (with a margin). Lusha sends **no Retry-After**: after a 429 the client waits for the
window the headers show empty, and otherwise backs off as Lusha's docs advise: 1 s, doubling, at most 60 s
(``backoff_base`` scales that for tests). Timeouts and 5xx are retried the same way, up to ``max_attempts``;
401/403/404 are raised at once with Lusha's words and what to do. The send loop itself (quota waits, retries, the
request log) is the provider toolkit's ``Sender``.

The API key travels only in the ``api_key`` header (the header name is taken from Lusha's public API reference and
should be checked against it) and never appears in a log line or an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from halosync import __version__
from halosync.plugin import (
    AuthError,
    HeaderQuota,
    PermissionDenied,
    ProviderError,
    RateLimited,
    RateWindow,
    Sender,
    TransientProviderError,
    WindowHeaders,
    exponential,
    json_of,
    secrets,
)
from halosync_lusha.plans import PLAN_LIMITS, WINDOWS
from halosync_lusha.settings import LushaSettings

PROVIDER = "lusha"
KEY_HEADER = "api_key"
QUOTA_ENDPOINT = "api"  # Lusha counts requests per key, not per endpoint
BACKOFF_CAP = 60.0
LUSHA_WINDOWS = (
    WindowHeaders("minute", 60.0, ("x-rate-limit-minute",), ("x-minute-usage",), ("x-minute-requests-left",)),
    WindowHeaders("hour", 3600.0, ("x-rate-limit-hourly",), ("x-hourly-usage",), ("x-hourly-requests-left",)),
    WindowHeaders("day", 86400.0, ("x-rate-limit-daily",), ("x-daily-usage",), ("x-daily-requests-left",)),
)


def backoff(attempt: int, base: float = 1.0) -> float:
    """Lusha's advice without Retry-After: 1 s, 2 s, 4 s ... at most 60 s (``base`` scales it)."""
    return exponential(attempt, base=base, cap=BACKOFF_CAP * base)


class LushaClient:
    def __init__(self, settings: LushaSettings, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None, backoff_base: float = 1.0) -> None:
        self.sender = Sender.for_provider(
            PROVIDER, "Lusha", settings.base_url, settings.api_key, timeout=settings.timeout,
            max_attempts=settings.max_attempts, max_quota_wait=settings.max_quota_wait,
            backoff=lambda attempt: backoff(attempt, backoff_base))
        self.settings, self.clock, self.backoff_base, self.host = settings, clock, backoff_base, self.sender.host
        self.quota = HeaderQuota(PROVIDER, QUOTA_ENDPOINT, LUSHA_WINDOWS, settings.quota_margin, clock)
        self._observed = False
        self._http = self.sender.http_client(
            settings.base_url,
            {KEY_HEADER: settings.api_key, "accept": "application/json", "user-agent": f"halosync-lusha/{__version__}"},
            transport)

    def rate_windows(self) -> list[RateWindow]:
        if self._observed:
            return self.quota.windows()
        plan = PLAN_LIMITS.get(self.settings.plan)
        if plan is None:
            return []
        return [RateWindow(PROVIDER, window, plan.of(window), None, None, endpoint=QUOTA_ENDPOINT,
                           basis=f"plan {self.settings.plan} (plugins.lusha.plan), before Lusha's first answer")
                for window, _ in WINDOWS]

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def requests_sent(self) -> int:
        return self.sender.requests_sent

    @property
    def pauses(self) -> list[float]:
        """Backoff pauses taken (for logs and tests)."""
        return self.sender.pauses

    async def get(self, path: str, params: dict[str, Any] | None = None, *, route: str) -> Any:
        """One GET (``path`` like ``/v3/contacts/tables/ID/entities``), waiting on quotas and retrying what may
        pass (``halosync.plugin.Sender``). ``route`` names the endpoint for metrics and messages."""
        response = await self.sender.send("GET", route, self.quota, lambda: self._http.get(path, params=params),
                                          error_of=lambda answer: _error(answer, route), observed=self._observe,
                                          quota_of="the Lusha API key")
        return json_of(response, PROVIDER, "Lusha", route)

    def _observe(self, quota: HeaderQuota) -> None:
        self._observed = self._observed or bool(quota.windows())


def lusha_message(response: httpx.Response) -> str:
    """Lusha's own words from an error answer: ``{"message": ...}``, ``{"error": {"message": ...}}``, or text."""
    try:
        body = response.json()
    except ValueError:
        return secrets.redact(response.text.strip()[:300])
    if isinstance(body, dict):
        inner = body.get("error")
        text = inner.get("message") if isinstance(inner, dict) else inner
        return secrets.redact(str(text or body.get("message") or body)[:300])
    return secrets.redact(str(body)[:300])


def _error(response: httpx.Response, route: str) -> ProviderError:
    status = response.status_code
    message = lusha_message(response)
    if status == 401:
        return AuthError(PROVIDER, f"Lusha rejected the API key: {message}. Set plugins.lusha.api_key to the key "
                         "shown in Lusha under Settings > API.", status=status)
    if status == 403:
        return PermissionDenied(PROVIDER, f"{route}: {message}. The key's plan has no API access to contact lists "
                                "(Premium and Scale have it, Pro with low limits); upgrade the plan or disable "
                                "[plugins.lusha].", status=status)
    if status == 404:
        return ProviderError(PROVIDER, f"{route} was not found on {response.url.host}: {message}. Check "
                             "plugins.lusha.list_ids (the id in the list's URL) and plugins.lusha.base_url.",
                             status=status)
    if status == 429:
        return RateLimited(PROVIDER, f"{route}: {message}", retry_after=None)
    if status >= 500:
        return TransientProviderError(PROVIDER, f"{route}: Lusha failed: {message or response.reason_phrase}",
                                      status=status)
    return ProviderError(PROVIDER, f"Lusha refused {route}: {message or response.reason_phrase}. If "
                         "[plugins.lusha] is right, this is a halosync_lusha bug: report it.", status=status)
