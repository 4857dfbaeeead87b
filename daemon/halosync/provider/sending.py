"""The send loop of a provider client: quotas waited on, bounded retries, one log line and metric per exchange.

A client describes its provider once (``Sender.for_provider(provider, label, base_url, api_key, ...)`` checks the
URL, masks the key in every message and names the host) and hands each request to ``send``, with the
``HeaderQuota`` it counts against and how to read an answer that is not a success (``error_of``: the provider's
words and what to do, as a ``ProviderError``)::

    response = await self.sender.send("GET", route, quota, lambda: http.get(path), error_of=_error)

Each attempt, at most ``max_attempts``:

1. a quota empty for longer than ``max_quota_wait`` raises ``RateLimited`` at once (the pull stops and resumes at
   the next poll); a shorter wait is logged and waited out in ``quota.acquire()``;
2. the request is sent; a timeout or a transport error is a ``TransientProviderError`` naming the host and the
   setting to change; an answer's quota headers feed ``quota`` and the ``rate_limit_remaining`` gauge, and every
   exchange is counted (``observe_provider_request``) and logged (``log_request``, with the budget left);
3. a success is returned; a ``retryable`` error is retried, any other raised;
4. the pause before the next try: a 429's ``Retry-After`` blocks the quota that long (past ``max_quota_wait`` the
   error is raised instead); without one, a window the headers show empty is waited for; otherwise ``backoff``.

The last error is raised when the attempts run out. Credentials never reach a message: transport errors are
redacted (``halosync.secrets``), and the request log names the route template, never a URL.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import trio
from loguru import logger

from halosync import metrics, secrets
from halosync.config.loader import check_provider_url
from halosync.errors import ProviderError, RateLimited, TransientProviderError
from halosync.provider.quota import HeaderQuota
from halosync.provider.requests import log_request


@dataclass
class Sender:
    """One provider's send loop. ``label`` is how messages name it ("Apollo"); ``setting`` the configuration table
    they point at (default ``plugins.<provider>``); ``backoff(attempt)`` the pause after a failed try."""

    provider: str
    label: str
    host: str
    timeout: float
    max_attempts: int
    max_quota_wait: float
    backoff: Callable[[int], float]
    setting: str = ""
    requests_sent: int = 0
    pauses: list[float] = field(default_factory=list)  # pauses taken between tries (for logs and tests)

    def __post_init__(self) -> None:
        self.setting = self.setting or f"plugins.{self.provider}"

    @classmethod
    def for_provider(cls, provider: str, label: str, base_url: str, api_key: str, *, timeout: float,
                     max_attempts: int, max_quota_wait: float, backoff: Callable[[int], float]) -> Sender:
        """The sender of a client configured under ``[plugins.<provider>]``: ``base_url`` checked (a
        ``ProviderError`` saying what is wrong with it), ``api_key`` masked in any message however the settings
        were made."""
        problem = check_provider_url(base_url)
        if problem:
            raise ProviderError(provider, f"plugins.{provider}.base_url {problem}")
        secrets.register(api_key)
        return cls(provider, label, urlsplit(base_url).hostname or base_url, timeout, max_attempts, max_quota_wait,
                   backoff)

    def http_client(self, base_url: str, headers: dict[str, str],
                    transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
        """The client's connection pool, with the sender's timeout on every request."""
        return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=self.timeout, transport=transport)

    async def send(self, method: str, endpoint: str, quota: HeaderQuota,
                   request: Callable[[], Awaitable[httpx.Response]], *,
                   error_of: Callable[[httpx.Response], ProviderError],
                   observed: Callable[[HeaderQuota], None] | None = None,
                   quota_of: str | None = None) -> httpx.Response:
        """The successful answer to ``request()``, retried as the module says. ``endpoint`` is the route template
        (metrics, log, messages); ``observed`` is told after each answer's headers are read (to share them, say);
        ``quota_of`` names what ``quota`` counts in messages (default: the endpoint)."""
        error: ProviderError | None = None
        for attempt in range(self.max_attempts):
            self._check_wait(quota, endpoint, quota_of or endpoint)
            await quota.acquire()
            response, error = await self._exchange(method, endpoint, quota, request)
            if response is not None:
                for window in quota.windows():
                    metrics.set_rate_limit_remaining(self.provider, window.window, window.remaining)
                if observed is not None:
                    observed(quota)
                if response.is_success:
                    return response
                error = error_of(response)
                if not error.retryable:
                    raise error
            assert error is not None
            if attempt + 1 == self.max_attempts:
                break
            pause = self._pause(error, quota, attempt)
            logger.debug("{}: {} (try {} of {}); retrying in {:.1f} s", self.provider, error, attempt + 1,
                         self.max_attempts, pause)
            self.pauses.append(pause)
            await trio.sleep(pause)
        assert error is not None
        raise error

    def _check_wait(self, quota: HeaderQuota, endpoint: str, quota_of: str) -> None:
        wait = quota.delay()
        if wait > self.max_quota_wait:
            raise RateLimited(self.provider, f"the {quota.binding()} quota of {quota_of} is used up for {wait:.0f} s "
                              f"(past {self.setting}.max_quota_wait); the pull stops before {endpoint} and resumes "
                              "at the next poll", retry_after=wait)
        if wait >= 1:
            logger.info("{}: the {} quota of {} is used up; waiting {:.0f} s for it to reset", self.provider,
                        quota.binding(), quota_of, wait)

    def _pause(self, error: ProviderError, quota: HeaderQuota, attempt: int) -> float:
        if isinstance(error, RateLimited):
            if error.retry_after is not None:
                if error.retry_after > self.max_quota_wait:
                    raise error
                quota.block_for(error.retry_after)
                return 0.0  # acquire() waits for it
            if quota.delay() > 0:
                return 0.0  # the headers show which window is empty and acquire() waits for its reset
        return self.backoff(attempt)

    async def _exchange(self, method: str, endpoint: str, quota: HeaderQuota,
                        request: Callable[[], Awaitable[httpx.Response]],
                        ) -> tuple[httpx.Response | None, ProviderError | None]:
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            response = await request()
        except httpx.TimeoutException:
            self._record(method, endpoint, None, started, quota)
            return None, TransientProviderError(
                self.provider, f"{endpoint}: no answer from {self.host} within {self.timeout:g} s; raise "
                f"{self.setting}.timeout if {self.label} is slow")
        except httpx.TransportError as exc:
            self._record(method, endpoint, None, started, quota)
            return None, TransientProviderError(
                self.provider, secrets.redact(f"{endpoint}: cannot reach {self.host} ({type(exc).__name__}: {exc}); "
                                              f"check the network and {self.setting}.base_url"))
        quota.observe(response.headers)
        self._record(method, endpoint, response.status_code, started, quota)
        return response, None

    def _record(self, method: str, endpoint: str, status: int | None, started: float, quota: HeaderQuota) -> None:
        seconds = time.perf_counter() - started
        metrics.observe_provider_request(self.provider, endpoint, status, seconds)
        log_request(self.provider, method, endpoint, status, seconds, budget(quota))


def budget(quota: HeaderQuota) -> str:
    """What the quota's windows have left, as the request log shows it (``hour 412/600``)."""
    return ", ".join(f"{w.window} {w.remaining:,}/{w.limit:,}" if w.limit is not None else f"{w.window} {w.remaining:,}"
                     for w in quota.windows() if w.remaining is not None)


def json_of(response: httpx.Response, provider: str, label: str, endpoint: str) -> Any:
    """A successful answer's JSON; a body that is not JSON is a ``TransientProviderError`` (a proxy's error page)."""
    try:
        return response.json()
    except ValueError:
        raise TransientProviderError(provider, f"{endpoint}: {label} answered {response.status_code} with a body "
                                     "that is not JSON", status=response.status_code) from None
