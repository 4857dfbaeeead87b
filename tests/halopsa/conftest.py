from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
import trio.testing

from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.sink import HaloSink


def halo_settings(url: str, **overrides: Any) -> HaloSettings:
    values: dict[str, Any] = {"base_url": url, "client_id": "halosync", "client_secret": "fake-secret",
                              "timeout": 5.0, "retry_base": 0.05, "retry_cap": 0.5}
    return HaloSettings(**(values | overrides))


@pytest.fixture
def fake() -> FakeHalo:
    return FakeHalo(FakeSettings())


@pytest.fixture
async def halo_url(fake: FakeHalo, nursery: trio.Nursery) -> str:
    url: str = await nursery.start(serve_fake, fake)
    return url


@pytest.fixture
async def sink(halo_url: str) -> AsyncIterator[HaloSink]:
    sink = HaloSink(halo_settings(halo_url))
    yield sink
    await sink.aclose()


@pytest.fixture
def virtual_clock() -> trio.testing.MockClock:
    """Virtual time that jumps ahead whenever every task has been idle for a moment of real time: windows,
    backoffs, token lifetimes and timeouts pass instantly, while socket traffic to the fake still flows."""
    return trio.testing.MockClock(autojump_threshold=0.005)
