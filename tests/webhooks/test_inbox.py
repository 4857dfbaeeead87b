"""The durable inbox on both stores: concurrent deliveries are committed in groups, each stored once, duplicates
(earlier or in the same group) recognised; failures are marked and dead-lettered together; retry re-queues."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any, cast

import trio

from halosync import metrics
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, WebhookInbox
from halosync.webhooks import inbox
from halosync.webhooks.inbox import Delivery, InboxWriter


def delivery(delivery_id: str, plugin: str = "webhook") -> Delivery:
    return Delivery(plugin, delivery_id, {"webhook-id": delivery_id}, json.dumps({"id": delivery_id}), time.time())


def commits() -> tuple[float, float]:
    """(deliveries, groups) committed so far in this process, from the inbox's own metrics."""
    return metrics.WEBHOOK_STORE_BATCH._sum.get(), sum(b.get() for b in metrics.WEBHOOK_STORE_BATCH._buckets)


async def test_concurrent_deliveries_are_group_committed_once_each(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    writer = InboxWriter(store)
    outcomes: dict[tuple[str, str], list[str]] = {}
    _, groups_before = commits()
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)

        async def put(d: Delivery) -> None:
            outcomes.setdefault((d.plugin, d.delivery_id), []).append(await writer.put(d))

        async with trio.open_nursery() as senders:
            for i in range(300):
                senders.start_soon(put, delivery(f"d{i % 250}"))  # 50 ids sent twice, at the same time
            senders.start_soon(put, delivery("d0", plugin="other"))  # same id, another plugin: not a duplicate
        nursery.cancel_scope.cancel()
    _, groups_after = commits()
    twice = {key: v for key, v in outcomes.items() if key[0] == "webhook" and int(key[1][1:]) < 50}
    assert len(twice) == 50 and all(sorted(v) == ["duplicate", "stored"] for v in twice.values())
    assert all(v == ["stored"] for key, v in outcomes.items() if key not in twice)
    assert await store.run(lambda: WebhookInbox.select().count()) == 251
    assert groups_after - groups_before < 301 / 4  # committed in groups, not one transaction each
    later = InboxWriter(store)
    async with trio.open_nursery() as nursery:
        await nursery.start(later.run)
        assert await later.put(delivery("d7")) == "duplicate"  # a retry long after is still recognised
        nursery.cancel_scope.cancel()
    store.close()


async def test_finish_marks_and_dead_letters_together_and_retry_requeues(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    await store.transaction(inbox.insert, [delivery("ok"), delivery("bad")])
    rows = {r.delivery_id: r.id for r in await store.run(inbox.pending, 10)}
    await store.transaction(inbox.finish, [rows["ok"]], {rows["bad"]: "leads[0]: person has no value at all"})
    states = await store.run(lambda: {r.delivery_id: r.state for r in WebhookInbox.select()})
    assert states == {"ok": "processed", "bad": "failed"}
    [letter] = await store.run(lambda: list(cast("Iterable[dict[str, Any]]", DeadLetter.select().dicts())))
    assert letter["stage"] == "webhook" and letter["source_id"] == "bad" and "no value" in letter["reason"]
    assert letter["payload"]["inbox_id"] == rows["bad"]
    assert (await store.run(inbox.counts))["failed"] == 1
    assert await store.run(inbox.retry, rows["bad"]) is True
    assert [r.delivery_id for r in await store.run(inbox.pending, 10)] == ["bad"]
    assert await store.run(inbox.retry, 999_999) is False
    store.close()
