"""The fake Apollo as an ASGI app: auth, routing, quotas, faults and the request log.

``FakeApollo`` is both the ASGI application (``url = await nursery.start(serve, fake)``) and, through its state
(``state.py``), its in-process admin API (``fake.add_contacts``, ``fake.update_contact``, ``fake.fail_next``...);
the same operations are served over HTTP under ``/__admin/`` (see ``admin.py``) for a fake running in another
process.
"""

from __future__ import annotations

from typing import Any

import trio

from halosync.plugin import Receive, Request, Scope, Send, lifespan, read_request, respond
from halosync_apollo.fake import routes
from halosync_apollo.fake.admin import handle_admin
from halosync_apollo.fake.enrichment import deliver_webhooks
from halosync_apollo.fake.limits import too_many_message
from halosync_apollo.fake.state import ApolloState, LoggedRequest

INVALID_KEY = "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
PAID_ONLY = "This endpoint is only available to Apollo users on paid plans."
PAID_ENDPOINTS = frozenset({"contacts/search", "people/match", "people/bulk_match"})


class FakeApollo(ApolloState):
    """The state, served: each request is authenticated, counted against its quota, maybe failed on purpose, then
    answered by ``routes`` (the API) or ``admin`` (``/__admin/``), and logged."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The app's lifetime: enrichment webhooks are delivered from here, as Apollo would, later.
            async with trio.open_nursery() as nursery:
                nursery.start_soon(deliver_webhooks, self, self._deliveries_out)
                await lifespan(receive, send)
                nursery.cancel_scope.cancel()
            return
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        if request.path.startswith("/__admin/"):
            status, body = handle_admin(self, request)
            await respond(send, status, body)
            return
        endpoint = routes.endpoint_of(request.path)
        status, body, headers = await self._api(request, endpoint)
        self.counts[(endpoint or request.path, status)] += 1
        logged = LoggedRequest(self.clock(), request.method, endpoint or request.path, status,
                               _json_or_none(request) if request.method == "POST" else None,
                               request.headers.get("user-agent", ""))
        self.log.append(logged)
        if logged.endpoint == "contacts/search" and (self.churn.edits or self.churn.deletes):
            self._apply_churn()
        if self.after_request is not None:
            self.after_request(logged)
        await respond(send, status, body, headers=headers,
                      content_type="application/json" if isinstance(body, bytes) else None)

    async def _api(self, request: Request, endpoint: str | None) -> tuple[int, Any, dict[str, str]]:
        if endpoint is None:
            return 404, {"error": "Not found"}, {}
        key = request.headers.get("x-api-key")
        if not key:
            if request.headers.get("authorization"):
                return 401, {"error": "Invalid access credentials."}, {}
            return 401, INVALID_KEY, {}
        grant = self.keys.get(key)
        if grant is None:
            return 401, INVALID_KEY, {}
        template = routes.template_of(request.method, endpoint)
        if template is None:
            return 404, {"error": "Not found"}, {}
        if grant.endpoints is not None and template not in grant.endpoints:
            return 403, {"error": f"This API key is not authorized to access api/v1/{template}. Use a master API "
                                  "key or add this endpoint to the key's scopes in Settings > Integrations > API.",
                         "error_code": "API_INACCESSIBLE"}, {}
        if not grant.paid_plan and template in PAID_ENDPOINTS:
            return 403, {"message": PAID_ONLY}, {}
        if self.latency > 0:
            await trio.sleep(self.latency)
        refusal = self.quota.take(template)
        headers = self.quota.headers(template)
        if refusal is not None:
            if self.retry_after:
                headers["retry-after"] = str(refusal.retry_after)
            return 429, {"message": too_many_message(template, refusal)}, headers
        fault = self._take_fault(template)
        if fault is not None:
            if fault.hang:
                await trio.sleep_forever()
            return fault.status, fault.body, headers
        status, body = routes.answer(self, request, template, endpoint)
        return status, body, headers


def _json_or_none(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None
