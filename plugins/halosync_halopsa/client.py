"""The HaloPSA HTTP client: one pooled connection set, the rolling-window budget, retries and the circuit breaker.

Every request (token requests included: they reach the same instance) waits for the rolling-window limiter,
passes the circuit breaker, is bounded by the configured timeout and is recorded in the provider metrics.

Retries (bounded by ``max_retries``, full-jitter backoff): connect errors, 429, and, for reads and updates,
timeouts and 5xx. A create that timed out or got a 5xx may have been done, and HaloPSA has no idempotency keys,
so the client does not resend it: it raises ``WriteOutcomeUnknown`` and the writer looks the records up first.
A 401 refreshes the token once. Other 4xx answers raise at once with HaloPSA's own message.
A 429's text names the instance's budget; ``budget.Budget`` learns both its count and its window from it.
Every request, the token endpoint's included, says who sends it: ``User-Agent: halosync/<version>``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import trio
from loguru import logger

from halosync import __version__
from halosync.plugin import (
    CircuitBreaker,
    PluginError,
    ProviderError,
    RateLimited,
    RateWindow,
    SharedBudgets,
    TransientProviderError,
    check_provider_url,
    full_jitter,
    log_request,
    observe_provider_request,
    parse_retry_after,
    set_rate_limit_remaining,
)
from halosync_halopsa.answers import PROVIDER, WriteOutcomeUnknown, body_of, error_for, message_of
from halosync_halopsa.budget import Budget, shared_limiter
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.tokens import TokenSource

_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NO_ERROR = ProviderError(PROVIDER, "no error")  # the placeholder beside a 2xx answer
USER_AGENT = f"halosync/{__version__}"  # the distribution's version (importlib.metadata), never a literal


@dataclass(frozen=True)
class _Request:
    method: str
    route: str
    target: str
    params: Mapping[str, Any] | None
    json: Any
    form: Mapping[str, str] | None
    idempotent: bool

    @property
    def what(self) -> str:
        return f"{self.method} {self.route}"


class HaloClient:
    def __init__(self, settings: HaloSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 shared: SharedBudgets | None = None) -> None:
        for key in ("base_url", "auth_url"):  # also when built without the config loader (standalone use)
            problem = getattr(settings, key) and check_provider_url(getattr(settings, key))
            if problem:
                raise PluginError(PROVIDER, f"{key} {problem}")
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.limiter = shared_limiter(settings, shared)
        self.budget = Budget(settings, self.limiter)
        self.breaker = CircuitBreaker(PROVIDER, threshold=5, cooldown=min(30.0, settings.window_seconds))
        self.tokens = TokenSource(self)
        # One request on the wire at a time by default: a background sync gains little from more against one
        # shared instance, and the rolling window is then counted exactly (no answers in flight at a 429).
        self._on_the_wire = trio.Semaphore(settings.max_in_flight)
        self.requests_sent = 0
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the API -------------------------------------------------------------------------------------

    async def get(self, route: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return body_of(await self.send("GET", route, path, params=params))

    async def post(self, route: str, body: list[dict[str, Any]], *, creates: bool) -> Any:
        return body_of(await self.send("POST", route, route, json=body, idempotent=not creates))

    async def send(
        self,
        method: str,
        route: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        url: str | None = None,
        auth: bool = True,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one request with retries; answer the 2xx response or raise a ProviderError.

        ``route`` is the template recorded in metrics (``/api/Users/{id}``); ``path`` the real path, or ``url``
        a full URL (the token endpoint may live on another host)."""
        request = _Request(method, route, url or f"{self.base_url}{path}", params, json, form, idempotent)
        refreshed = False
        attempt, asked_wait = 0, 0.0
        while True:
            self.breaker.check()
            headers = {"Authorization": f"Bearer {await self.tokens.get()}"} if auth else {}
            async with self._on_the_wire:
                await self.limiter.acquire()
                if auth and self.tokens.stale():  # it ran out while this request waited for a slot
                    self.limiter.cancel()
                    continue
                response, error = await self._exchange(request, headers)
            if response is not None:
                status = response.status_code
                if status == 429:
                    self.budget.refused(response.text)  # first: the count it names is counted in its window
                    # HaloPSA is not known to send Retry-After (providers/halopsa.md); a proxy in front may: honour it.
                    asked_wait = parse_retry_after(response.headers.get("retry-after"), time.time()) or 0.0
                    self.limiter.throttled()
                    logger.info("halopsa: {} answered 429 (the instance's rolling window is full); sending at most "
                                "{} requests per {:g} s for now", request.what, self.limiter.state().effective_limit,
                                self.limiter.window)
                elif status == 401 and auth and not refreshed:
                    refreshed = True  # the token expired or was revoked early: one fresh token, one more try
                    self.tokens.invalidate()
                    continue
                elif status < 400:
                    return response
                elif status < 500:
                    raise error
            if attempt >= self.settings.max_retries:
                if isinstance(error, RateLimited):  # say when the window should have room again
                    reset_in = self.limiter.state().reset_in
                    raise RateLimited(PROVIDER, str(error).removeprefix(f"{PROVIDER}: HTTP 429: "),
                                      retry_after=reset_in if reset_in is not None else self.limiter.window)
                raise error
            delay = max(full_jitter(attempt, base=self.settings.retry_base, cap=self.settings.retry_cap), asked_wait)
            asked_wait = 0.0
            logger.debug("halopsa: {} ({}); retry {} in {:.1f} s", request.what, error, attempt + 1, delay)
            attempt += 1
            await trio.sleep(delay)

    async def _exchange(self, request: _Request, headers: dict[str, str]) -> tuple[httpx.Response | None,
                                                                                    ProviderError]:
        """One HTTP exchange in an acquired slot: the answer (and the error it would be), or no answer and a
        transient error. Raises ``WriteOutcomeUnknown`` when a create may have been carried out."""
        started = trio.current_time()
        try:
            response = await self._http.request(request.method, request.target, params=request.params,
                                                json=request.json, data=request.form, headers=headers)
        except httpx.TransportError as exc:
            self.limiter.release()
            observe_provider_request(PROVIDER, request.route, None, trio.current_time() - started)
            log_request(PROVIDER, request.method, request.route, None, trio.current_time() - started,
                        self._budget())
            self._failed(type(exc).__name__)
            reason = (f"timed out (limit {self.settings.timeout:g} s)" if isinstance(exc, httpx.TimeoutException)
                      else f"failed ({type(exc).__name__})")
            if not request.idempotent and not isinstance(exc, _UNSENT):
                raise WriteOutcomeUnknown(PROVIDER, f"{request.what} {reason}; it may have been carried out") from exc
            return None, TransientProviderError(PROVIDER, f"{request.what} {reason}; check the network and the "
                                                          "instance")
        except BaseException:  # cancelled mid-request: neither the slot nor a breaker trial may stay taken
            self.limiter.release()
            self.breaker.abandon()
            raise
        self.limiter.release()
        self.requests_sent += 1
        status = response.status_code
        observe_provider_request(PROVIDER, request.route, status, trio.current_time() - started)
        log_request(PROVIDER, request.method, request.route, status, trio.current_time() - started, self._budget())
        self._publish_budget()
        if status < 500:
            self.breaker.success()  # any answer below 500 shows the instance is up
            return response, error_for(response, request.what) if status >= 400 else _NO_ERROR
        self._failed(f"HTTP {status}")
        if not request.idempotent:
            detail = message_of(body_of(response))
            raise WriteOutcomeUnknown(PROVIDER, f"{request.what}: {detail}; it may have been carried out",
                                      status=status)
        return response, error_for(response, request.what)

    def _failed(self, reason: str) -> None:
        was = self.breaker.state
        self.breaker.failure(reason)
        if self.breaker.state == "open" and was != "open":
            logger.warning("halopsa: requests keep failing (last: {}); no calls for {:.0f} s, then one trial",
                           reason, self.breaker.cooldown_left())

    def _budget(self) -> str:
        """What the rolling window has left, as the request log shows it (``rolling-60s 412/600``)."""
        state = self.limiter.state()
        return f"rolling-{self.limiter.window:g}s {state.remaining:,}/{state.effective_limit:,}"

    def _publish_budget(self) -> None:
        state = self.limiter.state()
        set_rate_limit_remaining(PROVIDER, f"rolling-{self.limiter.window:g}s", state.remaining)

    def rate_window(self) -> RateWindow:
        """The budget as ``halosyncctl rate-limits`` shows it, with where its count and window come from."""
        window = f"rolling-{self.limiter.window:g}s"
        basis = self.budget.basis.describe()
        try:
            state = self.limiter.state()
        except RuntimeError:  # asked from outside the trio loop: nothing observed to report
            return RateWindow(PROVIDER, window, self.limiter.limit, None, None, basis=basis)
        now = time.time()
        reset_at = now + state.reset_in if state.reset_in is not None else None
        # At the pace of the last window, when the rest would be used up (if before the oldest request leaves).
        pace = state.used / self.limiter.window
        left_for = state.remaining / pace if pace else None
        exhausted_at = now + left_for if left_for is not None and reset_at and now + left_for < reset_at else None
        return RateWindow(PROVIDER, window, state.effective_limit, state.used, state.remaining, reset_at=reset_at,
                          exhausted_at=exhausted_at, basis=basis)
