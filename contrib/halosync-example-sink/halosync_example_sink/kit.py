"""How halosync's conformance kit (halosync.testing) drives this plugin's fake: the adapter its tests return
from the fixture ``halosync_sink_fake``. It ships with the plugin, so a plugin built on this one can reuse it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from halosync.plugin import ASGIApp, EntityKind, Sink
from halosync_example_sink.fake import FakeTinyCRM
from halosync_example_sink.plugin import TinyCRMSink


@dataclass
class TinyCRMKitFake:
    """How the kit drives the fake TinyCRM (a halosync.testing.SinkFake)."""

    kind: EntityKind = "company"
    page_size: int = 10
    sends_retry_after: bool = True
    fake: FakeTinyCRM = field(default_factory=FakeTinyCRM)

    @property
    def app(self) -> ASGIApp:
        return self.fake

    def sink(self, base_url: str, *, credentials_ok: bool = True) -> Sink:
        key = self.fake.api_key if credentials_ok else "not-the-key"
        return TinyCRMSink(base_url, key, page_size=self.page_size, timeout=10.0, backoff_base=0.05)

    def new_fields(self, n: int) -> Mapping[str, Any]:
        return {"name": f"Company {n}", "website": f"https://company{n}.example"}

    def changed_fields(self, n: int) -> Mapping[str, Any]:
        return {"city": f"City {n}"}

    def refused_fields(self) -> Mapping[str, Any] | None:
        return {"name": "Refused Co", "website": "not a url"}

    def add(self, count: int) -> None:
        for _ in range(count):
            self.fake.save({"name": f"Made by hand {len(self.fake.companies)}"})

    def count(self) -> int:
        return len(self.fake.companies)

    def is_write(self, method: str, path: str) -> bool:
        return method in ("POST", "PATCH")
