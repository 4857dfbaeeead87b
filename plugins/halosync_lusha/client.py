"""Lusha's REST API over httpx: the key header, quota scheduling from the rate headers, backoff and clear errors.

Every answer carries nine quota headers (``x-rate-limit-{minute,hourly,daily}``, ``x-{minute,hourly,daily}-usage``,
``x-{minute,hourly,daily}-requests-left``); they feed one ``HeaderQuota``, and each request first waits until no
window would be exhausted (with a margin). Lusha sends **no Retry-After**: after a 429 the client waits for the
window the headers show empty, and otherwise backs off as Lusha's docs advise: 1 s, doubling, at most 60 s
(``backoff_base`` scales that for tests). Timeouts and 5xx are retried the same way, up to ``max_attempts``;
401/403/404 are raised at once with Lusha's words and what to do.

The API key travels only in the ``api_key`` header (the header name is taken from Lusha's public API reference and
should be checked against it) and never appears in a log line or an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import trio
from loguru import logger

from halosync import __version__
from halosync.plugin import (
    AuthError,
    HeaderQuota,
    PermissionDenied,
    ProviderError,
    RateLimited,
    RateWindow,
    TransientProviderError,
    WindowHeaders,
    check_provider_url,
    exponential,
    metrics,
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
        problem = check_provider_url(settings.base_url)
        if problem:
            raise ProviderError(PROVIDER, f"plugins.lusha.base_url {problem}")
        secrets.register(settings.api_key)  # masked in any message, however the settings were made
        self.settings = settings
        self.clock = clock
        self.backoff_base = backoff_base
        self.host = urlsplit(settings.base_url).hostname or settings.base_url
        self.requests_sent = 0
        self.pauses: list[float] = []  # backoff pauses taken (for logs and tests)
        self.quota = HeaderQuota(PROVIDER, QUOTA_ENDPOINT, LUSHA_WINDOWS, settings.quota_margin, clock)
        self._observed = False
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={KEY_HEADER: settings.api_key, "accept": "application/json",
                     "user-agent": f"halosync-lusha/{__version__}"},
            timeout=settings.timeout,
            transport=transport,
        )

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

    async def get(self, path: str, params: dict[str, Any] | None = None, *, route: str) -> Any:
        """One GET (``path`` like ``/v3/contacts/tables/ID/entities``), waiting on quotas and retrying what may
        pass. ``route`` names the endpoint for metrics and messages."""
        error: ProviderError | None = None
        for attempt in range(self.settings.max_attempts):
            self._check_wait(route)
            await self.quota.acquire()
            response, error = await self._send(path, params, route)
            if response is not None:
                self._observe(response)
                if response.is_success:
                    return _json(response, route)
                error = _error(response, route)
                if not error.retryable:
                    raise error
            assert error is not None
            if attempt + 1 == self.settings.max_attempts:
                break
            pause = self._pause(error, attempt)
            logger.debug("lusha: {} (try {} of {}); retrying in {:.1f} s", error, attempt + 1,
                         self.settings.max_attempts, pause)
            self.pauses.append(pause)
            await trio.sleep(pause)
        assert error is not None
        raise error

    def _observe(self, response: httpx.Response) -> None:
        self.quota.observe(response.headers)
        windows = self.quota.windows()
        self._observed = self._observed or bool(windows)
        for window in windows:
            metrics.set_rate_limit_remaining(PROVIDER, window.window, window.remaining)

    def _check_wait(self, route: str) -> None:
        wait = self.quota.delay()
        if wait > self.settings.max_quota_wait:
            raise RateLimited(PROVIDER, f"the {self.quota.binding()} quota of the Lusha API key is used up for "
                              f"{wait:.0f} s (past plugins.lusha.max_quota_wait); the pull stops before {route} and "
                              "resumes at the next poll", retry_after=wait)
        if wait >= 1:
            logger.info("lusha: the {} quota is used up; waiting {:.0f} s for it to reset", self.quota.binding(), wait)

    def _pause(self, error: ProviderError, attempt: int) -> float:
        if isinstance(error, RateLimited) and self.quota.delay() > 0:
            return 0.0  # the headers show which window is empty: acquire() waits for its reset
        return backoff(attempt, self.backoff_base)

    async def _send(self, path: str, params: dict[str, Any] | None,
                    route: str) -> tuple[httpx.Response | None, ProviderError | None]:
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            response = await self._http.get(path, params=params)
        except httpx.TimeoutException:
            metrics.observe_provider_request(PROVIDER, route, None, time.perf_counter() - started)
            return None, TransientProviderError(
                PROVIDER, f"{route}: no answer from {self.host} within {self.settings.timeout:g} s; "
                "raise plugins.lusha.timeout if Lusha is slow")
        except httpx.TransportError as exc:
            metrics.observe_provider_request(PROVIDER, route, None, time.perf_counter() - started)
            return None, TransientProviderError(
                PROVIDER, secrets.redact(f"{route}: cannot reach {self.host} ({type(exc).__name__}: {exc}); "
                                         "check the network and plugins.lusha.base_url"))
        metrics.observe_provider_request(PROVIDER, route, response.status_code, time.perf_counter() - started)
        return response, None


def _json(response: httpx.Response, route: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientProviderError(PROVIDER, f"{route}: Lusha answered {response.status_code} with a body that is "
                                     "not JSON", status=response.status_code) from None


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
