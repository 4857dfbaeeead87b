"""How halosync's conformance kit (halosync.testing) drives this plugin's fake: the adapter its tests return
from the fixture ``halosync_source_fake``. It ships with the plugin, so a plugin built on this one can reuse it."""

from __future__ import annotations

from dataclasses import dataclass, field

from halosync.plugin import ASGIApp, Source
from halosync_example_source.fake import FakeLeadBoard
from halosync_example_source.plugin import LeadBoardSource


@dataclass
class LeadBoardKitFake:
    """How the kit drives the fake LeadBoard (a halosync.testing.SourceFake)."""

    page_size: int = 10
    reports_quota: bool = True
    sends_retry_after: bool = True
    fake: FakeLeadBoard = field(default_factory=FakeLeadBoard)
    made: int = 0

    @property
    def app(self) -> ASGIApp:
        return self.fake

    def source(self, base_url: str, *, credentials_ok: bool = True) -> Source:
        token = self.fake.token if credentials_ok else "not-the-token"
        return LeadBoardSource(base_url, token, page_size=self.page_size, timeout=10.0, backoff_base=0.05)

    def add(self, count: int, *, same_time: bool = False) -> list[str]:
        ids = []
        for n in range(count):
            self.made += 1
            ids.append(f"lb-{self.made:06d}")
            self.fake.put({"id": ids[-1], "first_name": "Ada", "last_name": f"Board{self.made}",
                           "email": f"ada{self.made}@leadboard.example"}, tick=not same_time or n == 0)
        return ids

    def edit(self, source_id: str) -> str:
        mark = f"CTO since {self.fake.now:.0f}"
        self.fake.put({**self.fake.leads[source_id], "title": mark})
        return mark

    def add_malformed(self) -> str:
        self.fake.put({"id": "lb-broken", "email": 42})  # no name, and an email that is not text
        return "lb-broken"
