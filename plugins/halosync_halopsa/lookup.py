"""Reading HaloPSA records back: after a POST that did not say what it created, after a crash, and for links.

The cheap way to find records just written is the newest page of the collection (``order=id&orderdesc=true``):
one request covers a whole batch. Only what that page does not explain is searched for one by one. Users are
recognised by every key they can hold (``userkeys``: e-mail in any of three fields, name at the client, the
identifying custom fields), so what the newest page leaves is found by listing each client's users, inactive ones
and custom fields included: HaloPSA has no filter on custom fields, and its ``search`` reaches neither ``email2``
nor ``email3``. It also remembers each client's main site, which a new user needs (``site_id``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from halosync.plugin import EntityKind
from halosync_halopsa.answers import NotFound
from halosync_halopsa.client import HaloClient
from halosync_halopsa.customfields import CustomFields
from halosync_halopsa.records import ENDPOINTS, identity
from halosync_halopsa.userkeys import UserKeys, identifying_fields

Record = dict[str, Any]
MAX_PAGES = 100_000  # a bound on any loop over pages; far beyond any real instance
SEARCHES_BEFORE_LISTING = 10  # more unexplained clients than this: list them all rather than search each


class Lookup:
    def __init__(self, client: HaloClient, page_size: int, custom: CustomFields | None = None) -> None:
        self.client = client
        self.page_size = page_size
        self.custom = custom
        self.main_sites: dict[int, int] = {}  # client id -> its main site id

    def remember(self, kind: EntityKind, records: Iterable[Mapping[str, Any]]) -> None:
        if kind == "company":
            for r in records:
                if r.get("id") and r.get("main_site_id"):
                    self.main_sites[int(r["id"])] = int(r["main_site_id"])

    async def page(self, kind: EntityKind, page_no: int, page_size: int, **params: Any) -> tuple[list[Record], float]:
        """One page of a listing, and the record count the instance reports (infinite when it reports none:
        then only an empty page ends a listing)."""
        endpoint = ENDPOINTS[kind]
        query = {"pageinate": "true", "page_size": page_size, "page_no": page_no, "includeinactive": "true", **params}
        body = await self.client.get(endpoint.route, endpoint.route, query)
        records = (body.get(endpoint.list_key) or []) if isinstance(body, dict) else []
        count = body.get("record_count") if isinstance(body, dict) else None
        total = float(count) if isinstance(count, int | float) and not isinstance(count, bool) else math.inf
        self.remember(kind, records)
        return records, total

    async def pages(self, kind: EntityKind, size: int, **params: Any) -> AsyncIterator[list[Record]]:
        """Every page of a listing. It ends at the reported record count, at a page of no records, or at a page
        with nothing new (an instance that ignores page_no), never merely at a short page."""
        seen: set[int] = set()
        for page_no in range(1, MAX_PAGES):
            records, total = await self.page(kind, page_no, size, **params)
            fresh = [r for r in records if int(r["id"]) not in seen]
            if not fresh:
                return
            seen.update(int(r["id"]) for r in fresh)
            yield fresh
            if len(seen) >= total:
                return

    async def newest(self, kind: EntityKind, count: int, *, min_id: int = 0, max_pages: int = 5,
                     **params: Any) -> list[Record]:
        """The newest records (at least ``count`` of them, or all with ``id >= min_id``), oldest first."""
        found: list[Record] = []
        size = max(50, min(self.page_size, count + 20))
        for page_no in range(1, max_pages + 1):
            records, total = await self.page(kind, page_no, size, order="id", orderdesc="true", **params)
            found += records
            lowest = min((int(r["id"]) for r in records), default=0)
            if not records or len(found) >= total or (min_id and lowest <= min_id) or (not min_id and
                                                                                       len(found) >= count):
                break
        return sorted((r for r in found if int(r["id"]) >= min_id), key=lambda r: int(r["id"]))

    async def match(self, kind: EntityKind, bodies: Sequence[Mapping[str, Any]], *,
                    min_id: int = 0) -> list[Record | None]:
        """The record each body became (or already was): first from the newest page; then, for users and
        opportunities, the records of each client that several bodies belong to, and for many clients a listing
        of them all (one pass instead of a search each); then one search each for what is left."""
        if kind == "person":
            return await self._match_users(bodies, min_id)
        wanted = [identity(kind, b) for b in bodies]
        used: set[int] = set()
        out: list[Record | None] = [None] * len(bodies)
        self._pick(kind, await self.newest(kind, len(bodies), min_id=min_id), wanted, range(len(bodies)), out, used)
        pending = [i for i, key in enumerate(wanted) if out[i] is None and key]
        if kind == "company" and len(pending) > SEARCHES_BEFORE_LISTING:
            # Many clients unexplained: one pass over every client costs less than a search each.
            everyone = [r async for page in self.pages(kind, self.page_size) for r in page]
            self._pick(kind, everyone, wanted, pending, out, used)
            pending = []
        elif kind != "company":
            by_client: dict[int, list[int]] = defaultdict(list)
            for i in pending:
                if bodies[i].get("client_id"):
                    by_client[int(bodies[i]["client_id"])].append(i)
            for client_id, indexes in by_client.items():
                if len(indexes) > 1:  # the client's users (or opportunities): one listing for them all
                    theirs = [r async for page in self.pages(kind, self.page_size, client_id=client_id) for r in page]
                    self._pick(kind, theirs, wanted, indexes, out, used)
                    pending = [i for i in pending if i not in indexes]
        for i in pending:
            out[i] = await self.search(kind, bodies[i], exclude=used)
        return out

    async def _match_users(self, bodies: Sequence[Mapping[str, Any]], min_id: int) -> list[Record | None]:
        """Users by every key: the newest page first, then each remaining client's users listed whole (with the
        identifying custom fields); a body without a client is searched by its e-mail, then by its name."""
        fields = identifying_fields(self.custom) if self.custom else []
        extra: dict[str, Any] = {"include_custom_fields": ",".join(map(str, fields))} if fields else {}
        wanted = [UserKeys.of(b, fields) for b in bodies]
        out: list[Record | None] = [None] * len(bodies)
        used: set[int] = set()
        newest = await self.newest("person", len(bodies), min_id=min_id, **extra)
        _pick_users(newest, wanted, range(len(bodies)), out, used, fields)
        by_client: dict[int, list[int]] = defaultdict(list)
        for i in (i for i in range(len(bodies)) if out[i] is None):
            client_id = wanted[i].client_id
            if client_id:
                by_client[client_id].append(i)
            else:
                for term in (*sorted(wanted[i].emails), wanted[i].name):
                    if term and out[i] is None:
                        found, _ = await self.page("person", 1, 100, order="id", orderdesc="true", search=term,
                                                   **extra)
                        _pick_users(found, wanted, [i], out, used, fields)
        for client, indexes in by_client.items():
            theirs = [r async for page in self.pages("person", self.page_size, client_id=client, **extra)
                      for r in page]
            _pick_users(theirs, wanted, indexes, out, used, fields)
        return out

    @staticmethod
    def _pick(kind: EntityKind, candidates: Sequence[Record], wanted: Sequence[str | None], indexes: Iterable[int],
              out: list[Record | None], used: set[int]) -> None:
        """Give each wanted identity the oldest unused candidate that has it (objects of one POST are created
        in order, so equal identities within a batch get ascending ids)."""
        ordered = sorted(candidates, key=lambda r: int(r["id"]))
        for i in indexes:
            key = wanted[i]
            hit = next((r for r in ordered if key and int(r["id"]) not in used and identity(kind, r) == key), None)
            if hit is not None:
                used.add(int(hit["id"]))
                out[i] = hit

    async def search(self, kind: EntityKind, body: Mapping[str, Any], *, exclude: set[int]) -> Record | None:
        """The newest record with the same identity as ``body``, found with HaloPSA's search filters."""
        params: dict[str, Any] = {}
        if kind == "company":
            params = {"search": body.get("name") or "", "search_name_only": "true"}
        elif kind == "person":
            params = {"search": body.get("emailaddress") or body.get("name") or ""}
        elif body.get("oppemailaddress"):
            params = {"search_oppemailaddress": body["oppemailaddress"]}
        elif not body.get("client_id"):
            params = {"search": body.get("summary") or ""}
        # An opportunity without an e-mail but with a client: the client's newest ones, told apart by their user.
        if kind != "company" and body.get("client_id"):
            params["client_id"] = body["client_id"]
        records, _ = await self.page(kind, 1, 100, order="id", orderdesc="true", **params)
        key = identity(kind, body)
        return next((r for r in records if identity(kind, r) == key and int(r["id"]) not in exclude), None)

    async def get(self, kind: EntityKind, record_id: int) -> Record | None:
        route = ENDPOINTS[kind].route
        try:
            body = await self.client.get(f"{route}/{{id}}", f"{route}/{record_id}")
        except NotFound:
            return None
        if isinstance(body, dict):
            self.remember(kind, [body])
            return body
        return None

    async def sites_for(self, client_ids: Iterable[int]) -> dict[int, int]:
        """Main site of each client (the ones that exist), from memory or HaloPSA."""
        client_ids = list(client_ids)
        unknown = sorted({c for c in client_ids if c not in self.main_sites})
        if len(unknown) > 5:  # cheaper to page through every client once than to ask for each
            async for _ in self.pages("company", self.page_size):
                pass  # ``page`` remembers every client's main site
        else:
            for client_id in unknown:
                await self.get("company", client_id)
        return {c: self.main_sites[c] for c in client_ids if c in self.main_sites}


def _pick_users(candidates: Sequence[Record], wanted: Sequence[UserKeys], indexes: Iterable[int],
                out: list[Record | None], used: set[int], fields: Sequence[int]) -> None:
    """Give each wanted user the surest unused candidate (oldest first among equals: objects of one POST are
    created in order)."""
    keyed = [(UserKeys.of(r, fields), r) for r in sorted(candidates, key=lambda r: int(r["id"]))]
    for i in indexes:
        if out[i] is not None:
            continue
        ranked = [(rank, int(r["id"]), r) for keys, r in keyed if int(r["id"]) not in used
                  and (rank := wanted[i].rank(keys)) is not None]
        if ranked:
            _, record_id, hit = min(ranked, key=lambda t: (t[0], t[1]))
            used.add(record_id)
            out[i] = hit
