"""``POST /webhooks/{plugin}`` and ``POST /webhooks/test``.

A delivery is answered in this order, and nothing is stored on any refusal:

    404  no enabled plugin by that name verifies webhooks
    413  the body is larger than http.max_body_bytes
    400  the plugin's verifier finds it malformed (missing headers, unreadable body)
    401  the verifier rejects the signature or credentials (a replay outside the tolerance included)
    503  the inbox could not commit it (the store is down or too slow): the sender retries
    202  committed to the inbox, durably, before this answer
    200  a delivery with this id was stored before: not stored again

Processing happens later, in the inbox worker (``halosync.webhooks.worker``), so a slow engine never makes a
sender wait and a burst never blocks the sync.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from loguru import logger

from halosync import metrics
from halosync.contracts import Verification, WebhookRequest, WebhookVerifier
from halosync.errors import StoreError
from halosync.http.routing import Answer, HTTPError, read_body
from halosync.provider.asgi import Receive, Scope
from halosync.webhooks.inbox import UNSTORED_HEADERS, Delivery, InboxWriter
from halosync.webhooks.registry import Verifiers
from halosync.webhooks.worker import InboxWorker

MAX_DELIVERY_ID = 255  # the inbox column's width


class WebhookRoutes:
    def __init__(self, verifiers: Verifiers, writer: InboxWriter, worker: InboxWorker, *, max_body: int) -> None:
        self.verifiers = verifiers
        self.writer = writer
        self.worker = worker
        self.max_body = max_body

    async def deliver(self, plugin: str, scope: Scope, receive: Receive) -> Answer:
        verifier = self.verifiers.get(plugin)
        if verifier is None:
            metrics.record_webhook("unknown", "unknown_plugin")
            raise HTTPError(404, f"no enabled plugin {plugin!r} accepts webhooks; enabled: "
                                 f"{', '.join(self.verifiers.names()) or 'none'}")
        request = await self._request(plugin, scope, receive)
        verification = self._verify(verifier, request)
        if not verification.ok:
            status = verification.status if verification.status in (400, 401) else 401
            metrics.record_webhook(plugin, "malformed" if status == 400 else "unauthorized")
            raise HTTPError(status, verification.reason)
        delivery = _delivery(plugin, request, verification)
        try:
            outcome = await self.writer.put(delivery)
        except StoreError as exc:
            metrics.record_webhook(plugin, "store_unavailable")
            raise HTTPError(503, f"delivery not stored: {exc}", headers={"retry-after": "30"}) from exc
        if outcome == "duplicate":
            metrics.record_webhook(plugin, "duplicate")
            return Answer(200, {"status": "duplicate", "delivery_id": delivery.delivery_id})
        metrics.record_webhook(plugin, "accepted")
        self.worker.wake()
        return Answer(202, {"status": "accepted", "delivery_id": delivery.delivery_id})

    async def test(self, scope: Scope, receive: Receive, query: dict[str, str]) -> Answer:
        """Explain a signature check for ``?plugin=NAME`` (default ``webhook``); stores nothing."""
        plugin = query.get("plugin", "webhook")
        verifier = self.verifiers.get(plugin)
        if verifier is None:
            raise HTTPError(404, f"no enabled plugin {plugin!r} accepts webhooks; name one with ?plugin=NAME "
                                 f"(enabled: {', '.join(self.verifiers.names()) or 'none'})")
        request = await self._request(plugin, scope, receive)
        explain = getattr(verifier, "explain", None)
        if callable(explain):
            explanation: dict[str, Any] = explain(request)
        else:
            verification = self._verify(verifier, request)
            explanation = {"plugin": plugin, "ok": verification.ok, "reason": verification.reason,
                           "status": 202 if verification.ok else verification.status,
                           "delivery_id": verification.delivery_id}
        explanation["stored"] = False
        return Answer(200, explanation)

    async def _request(self, plugin: str, scope: Scope, receive: Receive) -> WebhookRequest:
        try:
            body, headers, query = await read_body(scope, receive, self.max_body)
        except HTTPError as exc:
            if exc.status == 413:
                metrics.record_webhook(plugin, "too_large")
            raise
        return WebhookRequest(plugin, headers, query, body, time.time())

    @staticmethod
    def _verify(verifier: WebhookVerifier, request: WebhookRequest) -> Verification:
        try:
            return verifier.verify(request)
        except Exception as exc:  # a verifier bug refuses the delivery (the sender retries); never a 500 loop
            logger.opt(exception=True).error("webhook verifier of {} failed", request.plugin)
            return Verification(False, f"the {request.plugin} verifier failed: {type(exc).__name__}", status=401)


def _delivery(plugin: str, request: WebhookRequest, verification: Verification) -> Delivery:
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "the body is not UTF-8 text") from None
    delivery_id = verification.delivery_id or "sha256:" + hashlib.sha256(request.body).hexdigest()
    if len(delivery_id) > MAX_DELIVERY_ID:
        raise HTTPError(400, f"the delivery id is longer than {MAX_DELIVERY_ID} characters")
    headers = {k: v for k, v in request.headers.items() if k not in UNSTORED_HEADERS}
    return Delivery(plugin, delivery_id, headers, text, request.received_at)
