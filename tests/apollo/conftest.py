"""Fixtures for the Apollo plugin tests: the fake Apollo served on a real socket, and sources pointed at it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest
import trio

from halosync.contracts import Rejected, SourcePage
from halosync.model import Lead
from halosync.provider.asgi import serve
from halosync_apollo.fake import UNLIMITED, FakeApollo
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource

KEY = "test-key-0123456789"
EPOCH = 1_780_000_000.0  # 2026-05-28: after every generated contact, so changes sort after them


@dataclass
class Pulled:
    leads: list[Lead] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cursors: list[str | None] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [lead.source_id for lead in self.leads]

    @property
    def cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


async def pull_all(source: ApolloSource, cursor: str | None = None, *, full: bool = False,
                   stop_after: int | None = None, between_pages: Callable[[int], None] | None = None) -> Pulled:
    """Drain a pull as the engine would (page by page); ``stop_after`` pages simulates a crash;
    ``between_pages(n)`` runs after the n-th page (to change Apollo while the pull is under way)."""
    out = Pulled()
    async with aclosing(cast("AsyncGenerator[SourcePage, None]", source.pull(cursor, full=full))) as pages:
        async for page in pages:
            out.leads.extend(page.leads)
            out.rejected.extend(page.rejected)
            out.cursors.append(page.cursor)
            if between_pages is not None:
                between_pages(len(out.cursors))
            if stop_after is not None and len(out.cursors) >= stop_after:
                break
    return out


@pytest.fixture
def fake() -> FakeApollo:
    return FakeApollo([KEY], default_limits=UNLIMITED)




@pytest.fixture
async def fake_url(fake: FakeApollo, nursery: trio.Nursery) -> str:
    url: str = await nursery.start(serve, fake)
    return url


@pytest.fixture
async def make_source(fake_url: str) -> AsyncIterator[Callable[..., ApolloSource]]:
    made: list[ApolloSource] = []

    def make(**overrides: Any) -> ApolloSource:
        clock = overrides.pop("clock", None)
        settings = replace(ApolloSettings(api_key=KEY, base_url=fake_url, timeout=10.0), **overrides)
        source = ApolloSource(settings, backoff_base=0.05, **({"clock": clock} if clock else {}))
        made.append(source)
        return source

    yield make
    for source in made:
        await source.aclose()
