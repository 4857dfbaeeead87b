"""Apollo source throughput: contacts pulled and mapped per second from the unthrottled fake over a real socket,
and Apollo requests spent per 1,000 contacts (a set past the 50,000 display limit, so window splitting counts).

For scale: Apollo's example plan allows 200 searches a minute, i.e. at most ~333 contacts/s; the source must
never be the bottleneck, and every request it spends beyond one per 100 contacts is quota lost."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import cast

import trio

from halosync.contracts import SourcePage
from halosync.provider.asgi import serve
from halosync_apollo.fake import UNLIMITED, FakeApollo, GeneratorSpec
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource

TITLE = "apollo source"
KEY = "bench-key-0123456789"
Row = tuple[str, float | int | str, str, str]


async def _pull(source: ApolloSource, cursor: str | None = None) -> tuple[int, str | None, float]:
    started = time.perf_counter()
    count = 0
    async with aclosing(cast("AsyncGenerator[SourcePage, None]", source.pull(cursor))) as pages:
        async for page in pages:
            count += len(page.leads)
            cursor = page.cursor
    return count, cursor, time.perf_counter() - started


async def _measure(count: int) -> list[Row]:
    fake = FakeApollo([KEY], default_limits=UNLIMITED)
    generated = fake.generate(GeneratorSpec(count=count, seed=1, days=max(5, count // 20_000)))
    async with trio.open_nursery() as nursery:
        url: str = await nursery.start(serve, fake)
        source = ApolloSource(ApolloSettings(api_key=KEY, base_url=url))
        cold, _, cold_s = await _pull(source)  # the fake encodes every contact once here
        sent_before = source.client.requests_sent
        warm, cursor, warm_s = await _pull(source)
        requests = source.client.requests_sent - sent_before
        for contact in generated.contacts[:: max(1, count // 10)][:10]:
            fake.update_contact(contact["id"], title="Changed")
        sent_before = source.client.requests_sent
        changed, _, _ = await _pull(source, cursor)
        incremental = source.client.requests_sent - sent_before
        await source.aclose()
        nursery.cancel_scope.cancel()
    assert cold == warm == count and changed == 10
    return [
        ("contacts pulled+mapped/s (first pull)", round(cold / cold_s), "contacts/s", ">= 2,000"),
        ("contacts pulled+mapped/s (warm fake)", round(warm / warm_s), "contacts/s", ">= 2,000"),
        (f"Apollo requests per 1,000 contacts ({count:,} contacts)", round(requests * 1000 / count, 2), "requests",
         "<= 12 (ties proven whole)"),
        ("requests for a poll with 10 changed contacts", incremental, "requests", "<= 5"),
    ]


async def _requests_per_1000(count: int, *, shuffled: bool, bulk_share: float) -> tuple[float, int, int]:
    """Requests per 1,000 contacts for a full pull, then for a poll with nothing changed and one with 10 changed."""
    fake = FakeApollo([KEY], default_limits=UNLIMITED, tie_order="shuffled" if shuffled else "id", seed=2)
    generated = fake.generate(GeneratorSpec(count=count, seed=2, days=30, tie_share=0.05, bulk_share=bulk_share))
    async with trio.open_nursery() as nursery:
        url: str = await nursery.start(serve, fake)
        source = ApolloSource(ApolloSettings(api_key=KEY, base_url=url))
        pulled, cursor, _ = await _pull(source)
        full = source.client.requests_sent - 1  # without the one-off probe of the day filter
        sent = source.client.requests_sent
        _, cursor, _ = await _pull(source, cursor)
        idle = source.client.requests_sent - sent
        for contact in generated.contacts[:: max(1, count // 10)][:10]:
            fake.update_contact(contact["id"], title="Changed")
        sent = source.client.requests_sent
        await _pull(source, cursor)
        changed = source.client.requests_sent - sent
        await source.aclose()
        nursery.cancel_scope.cancel()
    assert pulled >= count
    return round(full * 1000 / count, 2), idle, changed


async def _ties(count: int) -> list[Row]:
    rows: list[Row] = []
    for label, bulk in (("realistic (5% adjacent ties)", 0.0), ("heavy ties (30% on 5 timestamps)", 0.3)):
        for shuffled in (False, True):
            order = "shuffled per request" if shuffled else "id order"
            per_1000, idle, changed = await _requests_per_1000(count, shuffled=shuffled, bulk_share=bulk)
            rows.append((f"requests/1,000 contacts, {label}, ties {order} ({count:,})", per_1000, "requests",
                         "<= 11 realistic"))
            if not bulk:
                rows.append((f"poll with nothing changed, ties {order}", idle, "requests", "1"))
                rows.append((f"poll with 10 contacts changed, ties {order}", changed, "requests", "<= 2"))
    return rows


def run(quick: bool) -> list[Row]:
    return trio.run(_measure, 20_000 if quick else 120_000) + trio.run(_ties, 2_000 if quick else 10_000)
