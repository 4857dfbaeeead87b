"""A fake TinyCRM API (ASGI), for the plugin's tests and the conformance kit.

    GET   /v1/me                                  200, or 401 on a bad key
    POST  /v1/companies  {"records": [...]}       one result per record, in order: {"id"} or {"error"}
    PATCH /v1/companies/ID  {...}                 {"id"}
    GET   /v1/companies?after=SEQ&limit=N         records changed after change number SEQ, in change order
    GET   /v1/companies?external_key=K1,K2        the records created with those keys
    GET   /v1/companies?ids=ID1,ID2               those records

Authentication is ``X-Api-Key``. A record carries the ``external_key`` it was created with, so a client can find
what a create whose answer it lost made; every change gets the next change number (the listing's watermark).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import Receive, Request, Scope, Send, lifespan, read_request, respond


@dataclass
class FakeTinyCRM:
    api_key: str = "tc-test-key"
    companies: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {**record, "id": record.get("id") or f"c{len(self.companies) + 1}", "change": next(self.changes)}
        self.companies[record["id"]] = record
        return record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        request = await read_request(scope, receive)
        if request.headers.get("x-api-key") != self.api_key:
            await respond(send, 401, {"error": "unknown API key"})
            return
        status, body = self.answer(request)
        await respond(send, status, body)

    def answer(self, request: Request) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        if parts == ["v1", "me"]:
            return 200, {"account": "TinyCRM test account"}
        if parts[:2] != ["v1", "companies"]:
            return 404, {"error": f"no route {request.path}"}
        if request.method == "POST" and len(parts) == 2:
            return 200, {"results": [self._create(r) for r in request.json()["records"]]}
        if request.method == "PATCH" and len(parts) == 3 and parts[2] in self.companies:
            return 200, {"id": self.save({**self.companies[parts[2]], **request.json()})["id"]}
        if request.method == "GET" and len(parts) == 2:
            return 200, self._list(request.query)
        return 404, {"error": f"no such company or route: {request.method} {request.path}"}

    def _create(self, record: dict[str, Any]) -> dict[str, Any]:
        website = record.get("website")
        if website and not str(website).startswith(("http://", "https://")):
            return {"error": f"website must be an http(s) URL, not {website!r}"}
        return {"id": self.save(record)["id"]}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        rows = sorted(self.companies.values(), key=lambda r: r["change"])
        if "external_key" in query:
            return {"records": [r for r in rows if r.get("external_key") in query["external_key"].split(",")]}
        if "ids" in query:
            return {"records": [r for r in rows if r["id"] in query["ids"].split(",")]}
        after, limit = int(query.get("after", 0)), int(query.get("limit", 100))
        newer = [r for r in rows if r["change"] > after]
        return {"records": newer[:limit], "has_more": len(newer) > limit}
