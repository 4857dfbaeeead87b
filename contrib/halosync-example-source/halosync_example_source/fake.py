"""A fake LeadBoard API (ASGI), for the plugin's tests and the conformance kit.

    GET /v1/me                                      200 {"account": ...}, or 401 on a bad token
    GET /v1/leads?since=T&after=ID&limit=N          leads changed after (T, ID), oldest first, and "has_more"

Authentication is ``Authorization: Bearer TOKEN``. Every answer carries ``X-RateLimit-Limit``/``-Remaining``
(per minute). Leads are ordered by (updated_at, id), so leads changed at the same time are never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import Receive, Scope, Send, lifespan, read_request, respond

LIMIT = 600  # requests a minute


@dataclass
class FakeLeadBoard:
    token: str = "lb-test-token"
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    now: float = 1_780_000_000.0  # the fake's clock: every change moves it on (ties: changes at one time)
    requests: int = 0

    def put(self, lead: dict[str, Any], *, tick: bool = True) -> None:
        """Add or replace a lead as a LeadBoard user would: its ``updated_at`` becomes now."""
        self.now += 1 if tick else 0
        self.leads[lead["id"]] = {**lead, "updated_at": self.now}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        request = await read_request(scope, receive)
        self.requests += 1
        headers = {"x-ratelimit-limit": str(LIMIT), "x-ratelimit-remaining": str(max(0, LIMIT - self.requests))}
        if request.headers.get("authorization") != f"Bearer {self.token}":
            await respond(send, 401, {"error": "invalid or expired token"}, headers=headers)
        elif request.path == "/v1/me":
            await respond(send, 200, {"account": "LeadBoard test account"}, headers=headers)
        elif request.path == "/v1/leads":
            since, after = float(request.query.get("since", 0)), request.query.get("after", "")
            limit = int(request.query.get("limit", 100))
            newer = sorted((v for v in self.leads.values() if (v["updated_at"], v["id"]) > (since, after)),
                           key=lambda v: (v["updated_at"], v["id"]))
            await respond(send, 200, {"leads": newer[:limit], "has_more": len(newer) > limit}, headers=headers)
        else:
            await respond(send, 404, {"error": f"no route {request.path}"}, headers=headers)
