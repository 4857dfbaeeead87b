"""Fixtures for the Lusha plugin tests: the fake Lusha served on a real socket, and sources pointed at it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
import trio

from halosync.plugin import SourcePage, serve
from halosync_lusha.fake import FakeLusha
from halosync_lusha.settings import LushaSettings
from halosync_lusha.source import LushaSource
from tests.apollo.conftest import Pulled  # what a drained pull gave, page by page (any source)

KEY = "lusha-test-key-0123456789"
LIST = "L1"
EPOCH = 1_796_000_000.0  # 2026-11-29


def virtual_epoch() -> float:
    return EPOCH + trio.current_time()


async def pull_all(source: LushaSource, cursor: str | None = None, *, full: bool = False,
                   stop_after: int | None = None) -> Pulled:
    """Drain a pull as the engine would (page by page); ``stop_after`` pages simulates a crash after that commit."""
    out = Pulled()
    async with aclosing(cast("AsyncGenerator[SourcePage, None]", source.pull(cursor, full=full))) as pages:
        async for page in pages:
            out.leads.extend(page.leads)
            out.rejected.extend(page.rejected)
            out.cursors.append(page.cursor)
            if stop_after is not None and len(out.cursors) >= stop_after:
                break
    return out


@pytest.fixture
def fake() -> FakeLusha:
    fake = FakeLusha(seed=7)
    fake.add_key(KEY)
    return fake


@pytest.fixture
async def fake_url(fake: FakeLusha, nursery: trio.Nursery) -> str:
    url: str = await nursery.start(serve, fake)
    return url


@pytest.fixture
async def make_source(fake_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., LushaSource]]:
    made: list[LushaSource] = []

    def make(**overrides: Any) -> LushaSource:
        clock = overrides.pop("clock", None)
        backoff_base = overrides.pop("backoff_base", 0.01)
        settings = replace(LushaSettings(api_key=KEY, list_ids=(LIST,), base_url=fake_url, timeout=10.0),
                           **overrides)
        source = LushaSource(settings, tmp_path, backoff_base=backoff_base, **({"clock": clock} if clock else {}))
        made.append(source)
        return source

    yield make
    for source in made:
        await source.aclose()
