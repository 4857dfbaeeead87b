"""The HaloPSA sink: companies become Clients (with their main site), people become Users on that site, and
optionally each new lead an Opportunity. See ``halosync.contracts.Sink`` for what each method promises."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

import httpx
import trio

from halosync.plugin import (
    CheckResult,
    EntityKind,
    ForgetResult,
    MirrorPage,
    ProviderError,
    RateWindow,
    SharedBudgets,
    SinkRecord,
    WriteOp,
    WriteResult,
)
from halosync_halopsa import mirror
from halosync_halopsa.answers import PROVIDER
from halosync_halopsa.checks import auth_checks, headroom
from halosync_halopsa.client import HaloClient
from halosync_halopsa.customfields import CustomFields
from halosync_halopsa.lookup import Lookup
from halosync_halopsa.payloads import Unwritable, halo_id, payload
from halosync_halopsa.records import to_sink_record
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.templates import HaloObject
from halosync_halopsa.writer import Writer

# What a user halosync may not delete keeps (issue 16): no name, address, number or note that names the person.
ERASED_USER: dict[str, Any] = {"name": "Erased person", "firstname": "", "surname": "", "title": "",
                               "emailaddress": "", "email2": "", "email3": "", "phonenumber": "", "mobilenumber": "",
                               "notes": "", "other1": "", "other2": "", "other3": "", "other4": "", "other5": ""}

ERASED_OPPORTUNITY: dict[str, Any] = {"oppcontactname": "", "oppemailaddress": "", "opptel": "", "oppjobtitle": ""}


class HaloSink:
    name = PROVIDER

    def __init__(self, settings: HaloSettings, *, transport: httpx.AsyncBaseTransport | None = None,
                 shared: SharedBudgets | None = None) -> None:
        self.settings = settings
        self.batch_size = settings.batch_size
        self.kinds: tuple[EntityKind, ...] = ("company", "person") + (
            ("opportunity",) if settings.create_opportunity else ())
        self.client = HaloClient(settings, transport=transport, shared=shared)
        objects: tuple[HaloObject, ...] = ("client", "user", "opportunity")
        self.custom = CustomFields({obj: settings.custom_templates(obj) for obj in objects})
        self.lookup = Lookup(self.client, settings.page_size, self.custom)
        self.writer = Writer(self.client, settings, self.custom, self.lookup)
        self._started = False
        self._starting = trio.Lock()

    async def start(self) -> None:
        """Get a token, and resolve the configured custom fields to their ids (a missing one stops the start)."""
        async with self._starting:
            await self._start()

    async def _start(self) -> None:
        await self.client.tokens.get()
        if self.custom.wanted:
            failed = [r for r in await self._custom_field_checks() if r.status == "fail"]
            if failed:
                raise ProviderError(PROVIDER, f"{failed[0].message}: {failed[0].hint}"
                                    + (f" (and {len(failed) - 1} more; run `halosync diagnose`)" if failed[1:] else ""))
        self._started = True

    async def _custom_field_checks(self) -> list[CheckResult]:
        definitions = await self.client.get("/api/FieldInfo", "/api/FieldInfo")
        return self.custom.resolve(definitions if isinstance(definitions, list) else [])

    # --- writing ---------------------------------------------------------------------------------------

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if not ops:
            return []
        await self._ensure_started()
        return await self.writer.write(ops)

    async def _ensure_started(self) -> None:
        if not self._started:
            async with self._starting:
                if not self._started:  # another worker may have started it meanwhile
                    await self._start()

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        """The record each op made, by every key it can hold (``userkeys``): custom field ids must be resolved
        first, or a LinkedIn-only user would be looked for by name alone."""
        if ops:
            await self._ensure_started()
        found: list[SinkRecord | None] = [None] * len(ops)
        creates: list[tuple[int, dict[str, Any]]] = []
        for index, op in enumerate(ops):
            if op.action == "update":
                record_id = _id_or_none(op.sink_id)
                record = await self.lookup.get(op.kind, record_id) if record_id is not None else None
                found[index] = to_sink_record(op.kind, record) if record else None
                continue
            try:
                body = payload(op, self.settings, self.custom)
            except Unwritable:
                continue  # it could not have been written either
            if op.kind == "person" and not body.get("client_id") and self.settings.default_site_id:
                body["site_id"] = self.settings.default_site_id  # where the writer put it: its name's scope
            creates.append((index, body))
        by_kind: dict[EntityKind, list[tuple[int, dict[str, Any]]]] = {}
        for index, body in creates:
            by_kind.setdefault(ops[index].kind, []).append((index, body))
        for kind, items in by_kind.items():
            records = await self.lookup.match(kind, [body for _, body in items])
            for (index, _), record in zip(items, records, strict=True):
                found[index] = to_sink_record(kind, record) if record else None
        return found

    async def fetch(self, kind: EntityKind, sink_ids: Sequence[str]) -> dict[str, SinkRecord]:
        # Keyed by the ids as asked for: a stored "95.0" is HaloPSA's 95, and its answer is filed under "95.0".
        wanted: dict[int, str] = {}
        for sink_id in sink_ids:
            record_id = _id_or_none(sink_id)
            if record_id is not None:
                wanted[record_id] = sink_id
        out: dict[str, SinkRecord] = {}
        if len(wanted) > 20:  # one listing beats many single reads
            async with aclosing(self.list_records(kind)) as pages:
                async for page in pages:
                    for found in page.records:
                        asked = wanted.get(_id_or_none(found.sink_id) or 0)
                        if asked is not None:
                            out[asked] = found
            return out
        for record_id, asked in sorted(wanted.items()):
            record = await self.lookup.get(kind, record_id)
            if record is not None:
                out[asked] = to_sink_record(kind, record)
        return out

    async def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncGenerator[MirrorPage, None]:
        async with aclosing(mirror.list_records(self.lookup, kind, since, self.settings.mirror_full_refresh)) as pages:
            async for page in pages:
                yield page

    # --- state -----------------------------------------------------------------------------------------

    async def checks(self) -> list[CheckResult]:
        results, usable = await auth_checks(self.client, self.settings)
        if usable and self.custom.wanted:
            try:
                results += await self._custom_field_checks()
            except ProviderError as exc:
                results.append(CheckResult("halopsa.custom_fields", "fail", f"reading FieldInfo failed: {exc}",
                                           "the application's agent needs access to custom field definitions"))
        elif usable:
            results.append(CheckResult("halopsa.custom_fields", "pass", "no custom fields configured"))
        if usable and self.settings.create_opportunity:
            try:
                results.append(await self._ticket_type_check())
            except ProviderError as exc:
                results.append(CheckResult("halopsa.tickettype", "fail", f"reading TicketType failed: {exc}"))
        results.append(headroom(self.client, self.settings))
        return results

    async def _ticket_type_check(self) -> CheckResult:
        wanted = self.settings.opportunity_tickettype_id
        types = await self.client.get("/api/TicketType", "/api/TicketType")
        names = {int(t["id"]): str(t.get("name", "")) for t in types if isinstance(t, dict)} if isinstance(
            types, list) else {}
        if wanted in names:
            return CheckResult("halopsa.tickettype", "pass",
                               f"opportunities get ticket type {wanted} ({names[wanted]})")
        known = ", ".join(f"{i} {n}" for i, n in sorted(names.items())[:10])
        return CheckResult("halopsa.tickettype", "fail", f"ticket type {wanted} does not exist in HaloPSA",
                           f"set plugins.halopsa.opportunity_tickettype_id to one of: {known}")

    def rate_limits(self) -> list[RateWindow]:
        return [self.client.rate_window()]

    async def forget(self, kind: EntityKind, sink_id: str) -> ForgetResult:
        """Issue 16 (``halosyncctl forget --in-sinks``): DELETE the user; when HaloPSA refuses (tickets or
        opportunities belong to it), deactivate it and blank its personal fields, which is as far as HaloPSA
        lets an integration go. Only people: a company is not a person's data."""
        await self._ensure_started()
        if kind == "opportunity":  # the sales record stays; who it was about does not
            opportunity = halo_id(sink_id, "opportunity id")
            await self.client.post("/api/Opportunities", [{"id": opportunity, **ERASED_OPPORTUNITY}], creates=False)
            return ForgetResult(sink_id, "anonymised", "the opportunity's contact name, e-mail and phone blanked")
        if kind != "person":
            raise ProviderError(PROVIDER, f"forget erases people and their opportunities, not a {kind}")
        user = halo_id(sink_id, "user id")
        try:
            await self.client.send("DELETE", "/api/Users/{id}", f"/api/Users/{user}")
            return ForgetResult(sink_id, "deleted", f"DELETE /api/Users/{user}")
        except ProviderError as exc:
            if exc.status == 404:
                return ForgetResult(sink_id, "missing", "HaloPSA has no such user any more")
            if exc.status not in (400, 403, 409):
                raise
            refusal = str(exc)
        erased: dict[str, Any] = {"id": user, "inactive": True, **ERASED_USER}
        if self.custom.ids.get("user"):
            # The configured custom fields (a LinkedIn URL, a provider id...) blanked; an update replaces the array
            # whole, so the user's other custom values go with them: nothing of the person is left there either.
            erased["customfields"] = [{"id": field_id, "value": ""} for field_id in self.custom.ids["user"].values()]
        await self.client.post("/api/Users", [erased], creates=False)
        return ForgetResult(sink_id, "deactivated", f"HaloPSA refused the delete ({refusal}); the user is "
                            "deactivated and its personal fields and custom fields blanked")

    async def aclose(self) -> None:
        await self.client.aclose()


def _id_or_none(sink_id: str | None) -> int | None:
    """A stored sink id as HaloPSA's integer id, or None when it cannot be one (then no record has it)."""
    try:
        return halo_id(sink_id, "sink id") if sink_id else None
    except Unwritable:
        return None
