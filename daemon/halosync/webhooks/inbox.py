"""The durable webhook inbox: a delivery is committed here before the listener answers 202.

Group commit: each request hands its delivery to one ``InboxWriter`` task and waits; the writer commits everything
that arrived while the previous commit was running in ONE transaction, so a burst of N concurrent deliveries costs
one durable commit (one fsync), not N. On SQLite the inbox commit runs with ``synchronous=FULL`` (the store's
default NORMAL does not sync the WAL on commit, and a 202 promises the delivery survives a power cut).

De-duplication is by ``(plugin, delivery_id)``, the table's unique key: a delivery seen before (in the table or
earlier in the same group) is ``"duplicate"`` and is not stored again.

The functions below the writer run in a database thread (``store.run``/``store.transaction``) for the inbox
worker, health and ``dlq retry``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import trio
from loguru import logger

from halosync import metrics
from halosync.errors import StoreError
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, WebhookInbox

StoreOutcome = Literal["stored", "duplicate"]
_ID: Any = WebhookInbox._meta.primary_key  # the implicit auto id, which peewee's types do not declare
# Headers that carry credentials are never stored: the inbox must not become a second copy of a secret.
UNSTORED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"})


@dataclass(frozen=True, slots=True)
class Delivery:
    plugin: str
    delivery_id: str
    headers: dict[str, str]
    body: str
    received_at: float


@dataclass
class _Pending:
    delivery: Delivery
    done: trio.Event = field(default_factory=trio.Event)
    outcome: StoreOutcome | None = None
    error: StoreError | None = None


class InboxWriter:
    """The one task that commits deliveries; ``put`` is what a request awaits."""

    def __init__(self, store: Store, *, max_batch: int = 500, queue_size: int = 10_000) -> None:
        self.store = store
        self.max_batch = max_batch
        self._send, self._receive = trio.open_memory_channel[_Pending](queue_size)
        self._running = False

    async def put(self, delivery: Delivery) -> StoreOutcome:
        """Store ``delivery`` durably; raises StoreError when the store cannot take it."""
        if not self._running:
            raise StoreError("the webhook inbox is not running (the daemon is starting or stopping); retry later")
        pending = _Pending(delivery)
        await self._send.send(pending)
        await pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.outcome is not None
        return pending.outcome

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._running = True
        task_status.started()
        try:
            async for first in self._receive:
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                await self._commit(batch)
        finally:
            self._running = False

    async def _commit(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            outcomes = await self.store.run(_durably, self.store, [p.delivery for p in batch])
        except StoreError as exc:
            logger.error("webhook inbox: {} deliveries not stored: {}", len(batch), exc)
            for p in batch:
                p.error = exc
                p.done.set()
            return
        metrics.observe_webhook_store(time.perf_counter() - started, len(batch))
        for p, outcome in zip(batch, outcomes, strict=True):
            p.outcome = outcome
            p.done.set()


def _durably(store: Store, deliveries: Sequence[Delivery]) -> list[StoreOutcome]:
    db: Any = store.db  # execute_sql is untyped in peewee
    if not store.sqlite:
        with db.atomic():
            return insert(deliveries)
    db.execute_sql("PRAGMA synchronous=FULL")
    try:
        with db.atomic():
            return insert(deliveries)
    finally:
        db.execute_sql("PRAGMA synchronous=NORMAL")


def insert(deliveries: Sequence[Delivery]) -> list[StoreOutcome]:
    """Insert the deliveries not seen before; one outcome per delivery, in order. Call inside a transaction."""
    seen: set[tuple[str, str]] = set()
    for plugin in {d.plugin for d in deliveries}:
        ids = [d.delivery_id for d in deliveries if d.plugin == plugin]
        for chunk in _chunks(ids, 500):
            query = WebhookInbox.select(WebhookInbox.delivery_id).where(
                (WebhookInbox.plugin == plugin) & (WebhookInbox.delivery_id.in_(chunk)))
            seen.update((plugin, row.delivery_id) for row in query)
    outcomes: list[StoreOutcome] = []
    rows: list[dict[str, Any]] = []
    for d in deliveries:
        key = (d.plugin, d.delivery_id)
        if key in seen:
            outcomes.append("duplicate")
            continue
        seen.add(key)
        outcomes.append("stored")
        rows.append({"plugin": d.plugin, "delivery_id": d.delivery_id, "headers": d.headers, "body": d.body,
                     "received_at": d.received_at, "state": "pending"})
    for chunk in _chunks(rows, 100):
        # Another daemon on the same PostgreSQL may have stored one of these a moment ago: it is stored either way.
        WebhookInbox.insert_many(chunk).on_conflict_ignore().execute()
    return outcomes


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)] if items else []


# --- for the inbox worker, health and dlq retry (run these in a database thread) -------------------------


@dataclass(frozen=True, slots=True)
class StoredDelivery:
    id: int
    plugin: str
    delivery_id: str
    headers: dict[str, str]
    body: str
    received_at: float


def pending(limit: int) -> list[StoredDelivery]:
    """The oldest deliveries not processed yet."""
    query = WebhookInbox.select().where(WebhookInbox.state == "pending").order_by(_ID).limit(limit)
    return [StoredDelivery(int(getattr(r, _ID.name)), r.plugin, r.delivery_id, dict(r.headers or {}), r.body,
                           r.received_at) for r in query]


def finish(processed: Sequence[int], failed: dict[int, str]) -> None:
    """Mark deliveries processed or failed; every failure becomes a dead letter with its reason. Call inside a
    transaction so the mark and the dead letter commit together."""
    now = time.time()
    if processed:
        WebhookInbox.update(state="processed", processed_at=now, error=None).where(
            _ID.in_(list(processed))).execute()
    for inbox_id, reason in failed.items():
        row = WebhookInbox.get_by_id(inbox_id)
        row.state, row.processed_at, row.error = "failed", now, reason
        row.save()
        DeadLetter.create(stage="webhook", source=row.plugin, source_id=row.delivery_id, reason=reason,
                          payload={"inbox_id": inbox_id, "plugin": row.plugin, "delivery_id": row.delivery_id},
                          attempts=1)


def retry(inbox_id: int) -> bool:
    """Put a failed delivery back in the queue (``dlq retry`` of a ``webhook`` dead letter); then wake the worker
    (``engine.wake()`` does). False when there is no such delivery."""
    updated: int = WebhookInbox.update(state="pending", processed_at=None, error=None).where(
        inbox_id == _ID).execute()
    return updated > 0


def counts() -> dict[str, Any]:
    """{pending, failed, oldest_pending_age_seconds} of the inbox."""
    pending_n = WebhookInbox.select().where(WebhookInbox.state == "pending").count()
    failed_n = WebhookInbox.select().where(WebhookInbox.state == "failed").count()
    oldest = (WebhookInbox.select(WebhookInbox.received_at).where(WebhookInbox.state == "pending")
              .order_by(_ID).first())
    age = max(0.0, time.time() - oldest.received_at) if oldest is not None else 0.0
    return {"pending": pending_n, "failed": failed_n, "oldest_pending_age_seconds": math.floor(age)}
