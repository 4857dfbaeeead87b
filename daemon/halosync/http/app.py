"""The listener's ASGI app: routes, the per-request timeout, JSON errors, request metrics, and ASGI lifespan.

    GET  /health            health_document(daemon); 200 healthy or degraded, 503 unhealthy
    GET  /health/live       200 while the event loop answers
    GET  /metrics           Prometheus text
    POST /webhooks/test     explain a signature check; stores nothing
    POST /webhooks/{plugin} a delivery (see halosync.http.webhooks)

Every GET route answers HEAD too. Every request is bounded by http.request_timeout; one that takes longer is
answered 503 (for a webhook: not acknowledged, so the sender retries; if the inbox commit finished anyway, the retry
is answered 200 as a duplicate).
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from halosync import metrics
from halosync.http.health import health_answer
from halosync.http.routing import Answer, HTTPError, query_of
from halosync.http.scrape import scrape
from halosync.http.webhooks import WebhookRoutes
from halosync.provider.asgi import Receive, Scope, Send, lifespan, respond

if TYPE_CHECKING:
    from halosync.daemon.api import StateView

_GET_ROUTES = ("/health", "/health/live", "/metrics")


class ListenerApp:
    def __init__(self, daemon: StateView, webhooks: WebhookRoutes, *, request_timeout: float) -> None:
        self.daemon = daemon
        self.webhooks = webhooks
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets are not offered; hypercorn closes the connection
        started = time.perf_counter()
        route = _route_template(scope["method"], scope["path"])
        metrics.HTTP_IN_FLIGHT.inc()
        status = 500
        try:
            status = await self._answer(scope, receive, send, route)
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            metrics.observe_http_request(route, status, time.perf_counter() - started)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, route: str) -> int:
        response_started = False

        async def tracked_send(message: MutableMapping[str, Any]) -> None:
            nonlocal response_started
            response_started = True
            await send(message)

        with trio.move_on_after(self.request_timeout):
            try:
                answer = await self._dispatch(scope, receive)
            except HTTPError as exc:
                answer = Answer(exc.status, {"error": exc.message}, exc.headers)
            except Exception:  # a bug answers 500 and is logged with its traceback; the listener carries on
                logger.opt(exception=True).error("{} {} failed", scope["method"], route)
                answer = Answer(500, {"error": "internal error; see the daemon's log"})
            await respond(tracked_send, answer.status, answer.body, headers=answer.headers,
                          content_type=answer.content_type)
            return answer.status
        if not response_started:
            await respond(send, 503, {"error": f"no answer within http.request_timeout ({self.request_timeout:g} s); "
                                               "retry later"})
        return 503

    async def _dispatch(self, scope: Scope, receive: Receive) -> Answer:
        method, path = scope["method"], scope["path"].rstrip("/") or "/"
        if path in _GET_ROUTES:
            # HEAD is GET without the body (RFC 9110 9.3.2; the server drops the body): load balancers and uptime
            # checkers probe with it.
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, f"{path} answers GET and HEAD", headers={"allow": "GET, HEAD"})
            return await self._get(path)
        if path.startswith("/webhooks/") and path.count("/") == 2:
            if method != "POST":
                raise HTTPError(405, "webhooks are delivered with POST", headers={"allow": "POST"})
            plugin = path.removeprefix("/webhooks/")
            if plugin == "test":
                return await self.webhooks.test(scope, receive, query_of(scope))
            return await self.webhooks.deliver(plugin, scope, receive)
        raise HTTPError(404, f"no route {path}; see /health, /metrics, POST /webhooks/{{plugin}}")

    async def _get(self, path: str) -> Answer:
        if path == "/health/live":
            return Answer(200, {"status": "alive"})
        if path == "/metrics":
            body, content_type = await scrape(self.daemon)
            return Answer(200, body, content_type=content_type)
        document, status = await health_answer(self.daemon)
        return Answer(status, document)


def _route_template(method: str, path: str) -> str:
    """The metrics label for a request: a fixed template, never the raw path a caller chose."""
    path = path.rstrip("/") or "/"
    if path in _GET_ROUTES or path == "/webhooks/test":
        return path
    if path.startswith("/webhooks/"):
        return "/webhooks/{plugin}"
    return "other"
