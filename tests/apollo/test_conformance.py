"""The Apollo source passes the plugin conformance kit (halosync.testing), against its fake over a real socket."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from halosync.plugin import ASGIApp, Source
from halosync.testing import SourceConformance
from halosync_apollo.fake import FakeApollo, Limits
from halosync_apollo.fake.shape import apollo_time
from halosync_apollo.settings import ApolloSettings
from halosync_apollo.source import ApolloSource
from tests.apollo.conftest import EPOCH, KEY


@dataclass
class ApolloKitFake:
    """The kit's handle on the fake Apollo: contacts changed one second apart on a clock the adapter moves."""

    page_size: int = 10
    reports_quota: bool = True
    sends_retry_after: bool = True  # since 2026
    now: float = EPOCH
    made: int = 0
    fake: FakeApollo = field(init=False)

    def __post_init__(self) -> None:
        # Quotas large enough never to bite, so Apollo's headers report them; the kit's own 429s test waiting.
        self.fake = FakeApollo([KEY], default_limits=Limits(100_000, 100_000, 100_000), clock=lambda: self.now)

    @property
    def app(self) -> ASGIApp:
        return self.fake

    def source(self, base_url: str, *, credentials_ok: bool = True) -> Source:
        settings = ApolloSettings(api_key=KEY if credentials_ok else "not-a-key-0123456789", base_url=base_url,
                                  per_page=self.page_size, timeout=10.0)
        return ApolloSource(settings, backoff_base=0.05)

    def add(self, count: int, *, same_time: bool = False) -> list[str]:
        ids = []
        self.now += 1
        for _ in range(count):
            self.made += 1
            if not same_time:
                self.now += 1
            ids.append(f"kit{self.made:05d}")
            self.fake.add_contacts([{"id": ids[-1], "first_name": "Ada", "last_name": f"Kit{self.made}",
                                     "email": f"ada{self.made}@kit.example", "title": "v0",
                                     "updated_at": apollo_time(self.now)}])
        return ids

    def edit(self, source_id: str) -> str:
        self.now += 1
        mark = f"Edited at {self.now:.0f}"
        self.fake.update_contact(source_id, title=mark)
        return mark

    def add_malformed(self) -> str | None:
        self.now += 1
        self.fake.add_contacts([{"id": "  ", "first_name": "No", "last_name": "Id",
                                 "updated_at": apollo_time(self.now)}])
        return None  # Apollo's malformed contact has no usable id


@pytest.fixture
def halosync_source_fake() -> ApolloKitFake:
    return ApolloKitFake()


class TestApolloConformance(SourceConformance):
    pass
