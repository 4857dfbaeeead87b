"""Apollo's REST API over httpx: the key header, quota scheduling, bounded retries and clear errors.

Every response's rate-limit headers feed a ``HeaderQuota`` per endpoint, and each request first waits until no
window would be exhausted (with a margin). A 429 honours ``Retry-After`` when Apollo sends one; otherwise the
quota's own reset (when the headers show an empty window) or full-jitter backoff. Connect errors, timeouts and
5xx are retried up to ``max_attempts``; 401/403/422 are raised at once with Apollo's words and what to do.
The key travels only in the ``x-api-key`` header and never appears in a log line or an error message. The send
loop itself (quota waits, retries, the request log) is the provider toolkit's ``Sender``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from loguru import logger

from halosync import __version__
from halosync.plugin import (
    AuthError,
    HeaderQuota,
    PermissionDenied,
    ProviderError,
    RateLimited,
    RateWindow,
    Sender,
    SharedQuotas,
    TransientProviderError,
    WindowHeaders,
    full_jitter,
    json_of,
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
        self.sender = Sender.for_provider(
            PROVIDER, "Apollo", settings.base_url, settings.api_key, timeout=settings.timeout,
            max_attempts=settings.max_attempts, max_quota_wait=settings.max_quota_wait,
            backoff=lambda attempt: full_jitter(attempt, base=backoff_base, cap=30.0))
        self.settings, self.clock, self.backoff_base, self.host = settings, clock, backoff_base, self.sender.host
        self._quotas: dict[str, HeaderQuota] = {}
        # Issue 18: quota headers seen by any daemon sharing the store (a new poller starts from what they saw).
        self.shared = shared
        self._seeded: set[str] = set()
        self._http = self.sender.http_client(
            settings.base_url + "/api/v1/",
            {"x-api-key": settings.api_key, "accept": "application/json", "cache-control": "no-cache",
             "user-agent": f"halosync/{__version__}"}, transport)

    def quota(self, endpoint: str) -> HeaderQuota:
        if endpoint not in self._quotas:
            self._quotas[endpoint] = HeaderQuota(PROVIDER, endpoint, APOLLO_WINDOWS, self.settings.quota_margin,
                                                 self.clock)
        return self._quotas[endpoint]

    def rate_windows(self) -> list[RateWindow]:
        return [w for q in self._quotas.values() for w in q.windows()]

    @property
    def requests_sent(self) -> int:
        return self.sender.requests_sent

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, body: Any = None, *, route: str | None = None) -> Any:
        """One API call (``path`` like ``contacts/search``), waiting on quotas and retrying what may pass
        (``halosync.plugin.Sender``). ``route`` names the endpoint for quotas and metrics when ``path`` carries an
        id."""
        endpoint = route or path
        quota = self.quota(endpoint)
        if self.shared is not None and endpoint not in self._seeded:
            self._seeded.add(endpoint)
            await self._seed(quota, endpoint, self.shared)
        response = await self.sender.send(
            method, endpoint, quota, lambda: self._http.request(method, path, json=body),
            error_of=lambda answer: _error(answer, endpoint, self.clock()), observed=self._publish)
        return json_of(response, PROVIDER, "Apollo", endpoint)

    def _publish(self, quota: HeaderQuota) -> None:
        if self.shared is not None:
            self.shared.publish(f"{PROVIDER}:{quota.endpoint}", quota.windows())

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
