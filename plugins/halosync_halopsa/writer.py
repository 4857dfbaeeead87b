"""Batched writes: one POST per batch, and every op leaves with its HaloPSA id or HaloPSA's reason.

- A 400 keyed by array path (``{"[3].emailaddress": ...}``) refuses the whole request in HaloPSA; the objects it
  names fail with HaloPSA's words and the rest is posted again. A 400 that names no object is narrowed down by
  halving the batch until the object that HaloPSA refuses is alone.
- When the answer does not say what was created (a multi-item POST may answer only its first object), the
  records are read back (the newest page of the collection) and matched before any op is reported done.
- When a create's outcome is unknown (timeout, 5xx), the records are looked up before anything is sent again,
  so a lost answer never creates a second record.
- Once any op has succeeded, a later failure of the whole call becomes a retryable result for the ops left,
  never an exception that would make the daemon send the done ones again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import trio

from halosync.plugin import ProviderError, WriteOp, WriteResult, full_jitter
from halosync_halopsa.answers import BatchRejected, WriteOutcomeUnknown
from halosync_halopsa.client import HaloClient
from halosync_halopsa.customfields import CustomFields, merged
from halosync_halopsa.lookup import Lookup, Record
from halosync_halopsa.payloads import Unwritable, payload
from halosync_halopsa.records import ENDPOINTS, identity
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.templates import OBJECTS

Item = tuple[WriteOp, dict[str, Any]]


class Writer:
    def __init__(self, client: HaloClient, settings: HaloSettings, custom: CustomFields, lookup: Lookup) -> None:
        self.client, self.settings, self.custom, self.lookup = client, settings, custom, lookup

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        results: dict[str, WriteResult] = {}
        groups: dict[tuple[str, str], list[WriteOp]] = {}
        for op in ops:  # the daemon sends one kind and action per call; anything else is split, not mixed
            groups.setdefault((op.kind, op.action), []).append(op)
        size = self.settings.batch_size
        try:
            for group in groups.values():
                items = await self._prepare(group, results)
                for start in range(0, len(items), size):
                    await self._post(items[start:start + size], results)
        except ProviderError as exc:
            if not results or not any(r.ok for r in results.values()):
                raise
            for op in ops:  # some are done: report them, and let the daemon retry only the others
                results.setdefault(op.key, WriteResult(op.key, error=str(exc), retryable=True))
        return [results[op.key] for op in ops]

    async def _prepare(self, ops: Sequence[WriteOp], results: dict[str, WriteResult]) -> list[Item]:
        items: list[Item] = []
        for op in ops:
            try:
                items.append((op, payload(op, self.settings, self.custom)))
            except Unwritable as exc:
                results[op.key] = WriteResult(op.key, error=f"not sent to HaloPSA: {exc}")
        for op, body in [item for item in items if item[0].action == "update" and set(item[1]) <= {"id", "client_id"}]:
            results[op.key] = WriteResult(op.key, sink_id=op.sink_id)  # nothing HaloPSA holds changes
            items.remove((op, body))
        if items and items[0][0].kind in ("person", "opportunity"):
            items = await self._add_sites(items, results)
        if items and items[0][0].action == "update" and any("customfields" in body for _, body in items):
            await self._carry_custom_fields(items)
        return items

    async def _add_sites(self, items: list[Item], results: dict[str, WriteResult]) -> list[Item]:
        """A new user needs a site: its client's main site (or the configured default site)."""
        creating = [(op, body) for op, body in items if op.action == "create"]
        sites = await self.lookup.sites_for(int(body["client_id"]) for _, body in creating if body.get("client_id"))
        kept: list[Item] = []
        for op, body in items:
            if op.action == "create" and body.get("client_id"):
                site = sites.get(int(body["client_id"]))
                if site is None:
                    results[op.key] = WriteResult(op.key, error=f"not sent to HaloPSA: client {body['client_id']} "
                                                                "does not exist there (deleted?)", retryable=False)
                    continue
                body["site_id"] = site
            elif op.action == "create" and op.kind == "person":
                body["site_id"] = self.settings.default_site_id
            kept.append((op, body))
        return kept

    async def _carry_custom_fields(self, items: list[Item]) -> None:
        """An update replaces the record's whole customfields array: carry the values halosync does not set."""
        obj = OBJECTS[items[0][0].kind]
        if not self.custom.others(obj) and all(v["value"] for _, b in items for v in b.get("customfields", [])):
            return
        for op, body in items:
            current = await self.lookup.get(op.kind, int(body["id"]))
            body["customfields"] = merged((current or {}).get("customfields") or [], body.get("customfields", []))

    async def _post(self, batch: list[Item], results: dict[str, WriteResult]) -> None:
        kind, creates = batch[0][0].kind, batch[0][0].action == "create"
        route = ENDPOINTS[kind].route
        unknown_outcomes = 0
        while batch:
            try:
                answer = await self.client.post(route, [body for _, body in batch], creates=creates)
            except BatchRejected as exc:
                named = {i: m for i, m in exc.by_index.items() if 0 <= i < len(batch)}
                if named:
                    for index, message in named.items():
                        op = batch[index][0]
                        results[op.key] = WriteResult(op.key, error=f"HaloPSA refused it: {message}")
                    batch = [item for i, item in enumerate(batch) if i not in named]
                    continue
                if len(batch) == 1:
                    results[batch[0][0].key] = WriteResult(batch[0][0].key, error=f"HaloPSA refused it: {exc.reason}")
                    return
                half = len(batch) // 2  # HaloPSA did not say which object: find it by halving
                await self._post(batch[:half], results)
                await self._post(batch[half:], results)
                return
            except WriteOutcomeUnknown:
                unknown_outcomes += 1
                found = await self.lookup.match(kind, [body for _, body in batch])
                for (op, _), record in zip(batch, found, strict=True):
                    if record is not None:
                        results[op.key] = WriteResult(op.key, sink_id=str(record["id"]))
                batch = [item for item, record in zip(batch, found, strict=True) if record is None]
                if unknown_outcomes > self.settings.max_retries:
                    raise
                await trio.sleep(full_jitter(unknown_outcomes, base=self.settings.retry_base,
                                             cap=self.settings.retry_cap))
                continue
            records = await self._written(batch, answer) if creates else [{"id": op.sink_id} for op, _ in batch]
            for (op, _), record in zip(batch, records, strict=True):
                if record is None:
                    results[op.key] = WriteResult(op.key, error="HaloPSA answered the POST but the record could not "
                                                  "be found again; it will be looked up before any retry",
                                                  retryable=True)
                else:
                    results[op.key] = WriteResult(op.key, sink_id=str(record["id"]))
            return

    async def _written(self, batch: list[Item], answer: Any) -> list[Record | None]:
        """The record each created object became: from the answer when it lists them all, else read back."""
        kind = batch[0][0].kind
        bodies = [body for _, body in batch]
        objects = answer if isinstance(answer, list) else [answer] if isinstance(answer, dict) else []
        objects = [o for o in objects if isinstance(o, dict) and o.get("id")]
        self.lookup.remember(kind, objects)
        if len(objects) == len(bodies) and all(identity(kind, o) == identity(kind, b)
                                               for o, b in zip(objects, bodies, strict=True)):
            return list(objects)
        # Only part of what was created is known (the first object, or an unordered list): read back the
        # newest records from the lowest id seen, and match them to the objects sent.
        min_id = min((int(o["id"]) for o in objects), default=0)
        return await self.lookup.match(kind, bodies, min_id=min_id)
