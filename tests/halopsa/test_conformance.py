"""The HaloPSA sink passes the plugin conformance kit (halosync.testing), against its fake over a real socket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from halosync.plugin import ASGIApp, EntityKind, Sink
from halosync.testing import SinkConformance
from halosync_halopsa.fake import FakeHalo, FakeSettings, make_app
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings

REFUSED = "Refused Company"  # the fake refuses it by a business rule, naming no object, as HaloPSA does


@dataclass
class HaloKitFake:
    """The kit's handle on the fake HaloPSA, writing and listing companies (HaloPSA clients)."""

    kind: EntityKind = "company"
    page_size: int = 20
    # providers/halopsa.md: no Retry-After evidenced; the client honours one all the same (a proxy may send it)
    sends_retry_after: bool = True
    halo: FakeHalo = field(default_factory=lambda: FakeHalo(FakeSettings(business_rule_refuses=REFUSED)))

    @property
    def app(self) -> ASGIApp:
        return make_app(self.halo)

    def sink(self, base_url: str, *, credentials_ok: bool = True) -> Sink:
        return HaloSink(halo_settings(base_url, page_size=self.page_size, batch_size=10,
                                      client_secret="fake-secret" if credentials_ok else "wrong-secret"))

    def new_fields(self, n: int) -> Mapping[str, Any]:
        return {"name": f"Kit Company {n}", "website": f"https://kit{n}.example"}

    def changed_fields(self, n: int) -> Mapping[str, Any]:
        return {"website": f"https://renamed{n}.example"}

    def refused_fields(self) -> Mapping[str, Any] | None:
        return {"name": REFUSED}

    def add(self, count: int) -> None:
        for n in range(count):
            self.halo.add_client(f"Existing {len(self.halo.records('client')) + n}")

    def count(self) -> int:
        return len(self.halo.records("client"))

    def is_write(self, method: str, path: str) -> bool:
        return method == "POST" and path.startswith("/api/")


@pytest.fixture
def halosync_sink_fake() -> HaloKitFake:
    return HaloKitFake()


class TestHaloPSAConformance(SinkConformance):
    pass
