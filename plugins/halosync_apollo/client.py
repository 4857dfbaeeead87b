"""Apollo's REST API over httpx: the key header, quota scheduling, bounded retries and clear errors.

Every response's rate-limit headers feed a ``HeaderQuota`` per endpoint, and each request first waits until no
window would be exhausted (with a margin). A 429 honours ``Retry-After`` when Apollo sends one; otherwise the
quota's own reset (when the headers show an empty window) or full-jitter backoff. Connect errors, timeouts and
5xx are retried up to ``max_attempts``; 401/403/422 are raised at once with Apollo's words and what to do.
The key travels only in the ``x-api-key`` header and never appears in a log line or an error message.
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
    SharedQuotas,
    TransientProviderError,
    WindowHeaders,
    check_provider_url,
    full_jitter,
    log_request,
    metrics,
    parse_retry_after,
    secrets,
)
from halosync_apollo.settings import ApolloSettings

PROVIDER = "apollo"
# The daily window is documented as x-*-daily-* but has been seen live as x-*-24-hour-*: read both.
APOLLO_WINDOWS = (
    WindowHeaders("minute", 60.0, ("x-rate-limit-minute",), ("x-minute-usage",), ("x-minute-requests-left",)),
    WindowHeaders("hour", 3600.0, ("x-rate-limit-hourly",), ("x-hourly-usage",), ("x-hourly-requests-left",)),
    WindowHeaders("day", 86400.0, ("x-rate-limit-daily", "x-rate-limit-24-hour"), ("x-daily-usage", "x-24-hour-usage"),
                  ("x-daily-requests-left", "x-24-hour-requests-left")),
)


class ApolloClient:
    def __init__(self, settings: ApolloSettings, *, clock: Callable[[], float] = time.time,
                 transport: httpx.AsyncBaseTransport | None = None, backoff_base: float = 0.5,
                 shared: SharedQuotas | None = None) -> None:
        problem = check_provider_url(settings.base_url)
        if problem:
            raise ProviderError(PROVIDER, f"plugins.apollo.base_url {problem}")
        secrets.register(settings.api_key)  # masked in any message, however the settings were made
        self.settings = settings
        self.clock = clock
        self.backoff_base = backoff_base
        self.host = urlsplit(settings.base_url).hostname or settings.base_url
        self.requests_sent = 0
        self._quotas: dict[str, HeaderQuota] = {}
        # Issue 18: quota headers seen by any daemon sharing the store (a new poller starts from what they saw).
        self.shared = shared
        self._seeded: set[str] = set()
        self._http = httpx.AsyncClient(
            base_url=settings.base_url + "/api/v1/",
            headers={"x-api-key": settings.api_key, "accept": "application/json", "cache-control": "no-cache",
                     "user-agent": f"halosync/{__version__}"},
            timeout=settings.timeout,
            transport=transport,
        )

    def quota(self, endpoint: str) -> HeaderQuota:
        if endpoint not in self._quotas:
            self._quotas[endpoint] = HeaderQuota(PROVIDER, endpoint, APOLLO_WINDOWS, self.settings.quota_margin,
                                                 self.clock)
        return self._quotas[endpoint]

    def rate_windows(self) -> list[RateWindow]:
        return [w for q in self._quotas.values() for w in q.windows()]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, body: Any = None, *, route: str | None = None) -> Any:
        """One API call (``path`` like ``contacts/search``), waiting on quotas and retrying what may pass.
        ``route`` names the endpoint for quotas and metrics when ``path`` carries an id."""
        endpoint = route or path
        quota = self.quota(endpoint)
        if self.shared is not None and endpoint not in self._seeded:
            self._seeded.add(endpoint)
            await self._seed(quota, endpoint, self.shared)
        error: ProviderError | None = None
        for attempt in range(self.settings.max_attempts):
            self._check_wait(quota, endpoint)
            await quota.acquire()
            response, error = await self._send(method, path, endpoint, body, quota)
            if response is not None:
                if self.shared is not None:
                    self.shared.publish(f"{PROVIDER}:{endpoint}", quota.windows())
                for window in quota.windows():
                    metrics.set_rate_limit_remaining(PROVIDER, window.window, window.remaining)
                if response.is_success:
                    return _json(response, endpoint)
                error = _error(response, endpoint, self.clock())
                if not error.retryable:
                    raise error
            assert error is not None
            if attempt + 1 == self.settings.max_attempts:
                break
            pause = self._pause(error, quota, attempt)
            logger.debug("apollo: {} (try {} of {}); retrying in {:.1f} s", error, attempt + 1,
                           self.settings.max_attempts, pause)
            await trio.sleep(pause)
        assert error is not None
        raise error

    async def _seed(self, quota: HeaderQuota, endpoint: str, shared: SharedQuotas) -> None:
        """Start from the windows another daemon last saw for ``endpoint`` (those not reset since), read back as
        the headers they came from."""
        specs = {spec.window: spec for spec in APOLLO_WINDOWS}
        headers: dict[str, str] = {}
        for window in await shared.latest(f"{PROVIDER}:{endpoint}"):
            spec = specs.get(window.window)
            # A window seen used up is not carried over: it may have been freed meanwhile (a plan upgrade, a fault
            # cleared); if it is still empty, the first request's 429 says so, as for a daemon alone.
            if spec is None or not window.remaining:
                continue
            for names, value in ((spec.limit, window.limit), (spec.used, window.used),
                                 (spec.remaining, window.remaining)):
                if value is not None:
                    headers[names[0]] = str(value)
        if headers:
            quota.observe(headers)
            logger.info("apollo: {} starts from the quota another daemon saw: {}", endpoint,
                        ", ".join(f"{w.window} {w.remaining} left" for w in quota.windows()))

    def _check_wait(self, quota: HeaderQuota, endpoint: str) -> None:
        wait = quota.delay()
        if wait > self.settings.max_quota_wait:
            raise RateLimited(PROVIDER, f"the {quota.binding()} quota of {endpoint} is used up for {wait:.0f} s "
                              "(past plugins.apollo.max_quota_wait); the pull stops here and resumes at the next poll",
                              retry_after=wait)
        if wait >= 1:
            logger.info("apollo: the {} quota of {} is used up; waiting {:.0f} s for it to reset", quota.binding(),
                        endpoint, wait)

    def _pause(self, error: ProviderError, quota: HeaderQuota, attempt: int) -> float:
        if isinstance(error, RateLimited):
            if error.retry_after is not None:
                if error.retry_after > self.settings.max_quota_wait:
                    raise error
                quota.block_for(error.retry_after)
                return 0.0  # acquire() waits for it
            if quota.delay() > 0:
                return 0.0  # the headers show which window is empty and acquire() waits for its reset
        return full_jitter(attempt, base=self.backoff_base, cap=30.0)

    async def _send(self, method: str, path: str, endpoint: str, body: Any,
                    quota: HeaderQuota) -> tuple[httpx.Response | None, ProviderError | None]:
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.TimeoutException:
            metrics.observe_provider_request(PROVIDER, endpoint, None, time.perf_counter() - started)
            log_request(PROVIDER, method, endpoint, None, time.perf_counter() - started, _budget(quota))
            return None, TransientProviderError(
                PROVIDER, f"{endpoint}: no answer from {self.host} within {self.settings.timeout:g} s; "
                "raise plugins.apollo.timeout if Apollo is slow")
        except httpx.TransportError as exc:
            metrics.observe_provider_request(PROVIDER, endpoint, None, time.perf_counter() - started)
            log_request(PROVIDER, method, endpoint, None, time.perf_counter() - started, _budget(quota))
            return None, TransientProviderError(
                PROVIDER, secrets.redact(f"{endpoint}: cannot reach {self.host} ({type(exc).__name__}: {exc}); "
                                         "check the network and plugins.apollo.base_url"))
        metrics.observe_provider_request(PROVIDER, endpoint, response.status_code, time.perf_counter() - started)
        quota.observe(response.headers)
        log_request(PROVIDER, method, endpoint, response.status_code, time.perf_counter() - started, _budget(quota))
        return response, None


def _budget(quota: HeaderQuota) -> str:
    """What the endpoint's windows have left, as the request log shows it (``hour 412/600``)."""
    return ", ".join(f"{w.window} {w.remaining:,}/{w.limit:,}" if w.limit is not None else f"{w.window} {w.remaining:,}"
                     for w in quota.windows() if w.remaining is not None)


def _json(response: httpx.Response, endpoint: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientProviderError(PROVIDER, f"{endpoint}: Apollo answered {response.status_code} with a body that "
                                     "is not JSON", status=response.status_code) from None


def apollo_message(response: httpx.Response) -> tuple[str, str]:
    """Apollo's own words from an error answer (JSON ``error``/``message``/``error_message`` or plain text) and its
    ``error_code`` when given."""
    try:
        body = response.json()
    except ValueError:
        return secrets.redact(response.text.strip()[:300]), ""
    if isinstance(body, dict):
        text = body.get("error") or body.get("message") or body.get("error_message") or str(body)
        return secrets.redact(str(text)[:300]), str(body.get("error_code") or "")
    return secrets.redact(str(body)[:300]), ""


def _error(response: httpx.Response, endpoint: str, now: float) -> ProviderError:
    status = response.status_code
    message, code = apollo_message(response)
    if status == 401:
        return AuthError(PROVIDER, f"Apollo rejected the API key: {message} Set plugins.apollo.api_key to a valid "
                         "key (Settings > Integrations > API in Apollo).", status=status)
    if status == 403:
        if code == "API_INACCESSIBLE":
            advice = f"give the key access to {endpoint} in Apollo, or use a master API key"
        elif "paid plan" in message:
            advice = f"{endpoint} needs a paid Apollo plan; upgrade the plan or disable [plugins.apollo]"
        else:
            advice = "check the key's permissions in Apollo (Settings > Integrations > API)"
        return PermissionDenied(PROVIDER, f"{message} To fix: {advice}.", status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        return RateLimited(PROVIDER, f"{endpoint}: {message}", retry_after=retry_after)
    if status >= 500:
        return TransientProviderError(PROVIDER, f"{endpoint}: Apollo failed: {message or response.reason_phrase}",
                                      status=status)
    if status == 422:
        return ProviderError(PROVIDER, f"Apollo refused the {endpoint} request: {message}. Check label_ids, stage_ids "
                             "and keywords in [plugins.apollo]; if they are right, this is a halosync bug: report it.",
                             status=status)
    if status == 404:
        return ProviderError(PROVIDER, f"{endpoint} was not found on {response.url.host}: {message}. "
                             "Check plugins.apollo.base_url (https://api.apollo.io).", status=status)
    return ProviderError(PROVIDER, f"{endpoint}: {message or response.reason_phrase}", status=status)
