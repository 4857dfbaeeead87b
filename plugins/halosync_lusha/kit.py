"""How halosync's conformance kit (``halosync.testing``) drives this plugin's fake: the ``SourceFake`` adapter that
``tests/lusha/test_conformance.py`` returns from the fixture ``halosync_source_fake``. It ships with the plugin, so
a plugin built on this one can reuse it. Imported only by tests (it needs nothing beyond ``halosync.plugin``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from halosync.plugin import ASGIApp, Source
from halosync_lusha.fake import FakeLusha
from halosync_lusha.plans import PlanLimits
from halosync_lusha.settings import LushaSettings
from halosync_lusha.source import LushaSource

KEY = "lusha-kit-key"
LIST = "kit-list"
# Generous, so the kit's pulls never wait a minute, but reported: the kit checks rate_limits() shows them.
KIT_PLAN = PlanLimits(10_000, 100_000, 1_000_000)


@dataclass
class LushaKitFake:
    page_size: int = 10
    reports_quota: bool = True
    sends_retry_after: bool = False  # Lusha never sends Retry-After
    fake: FakeLusha = field(default_factory=lambda: FakeLusha(seed=11))
    state_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lusha-kit-")))
    edits: int = 0

    def __post_init__(self) -> None:
        self.fake.add_key(KEY, KIT_PLAN)
        self.fake.create_list(LIST)

    @property
    def app(self) -> ASGIApp:
        return self.fake

    def source(self, base_url: str, *, credentials_ok: bool = True) -> Source:
        settings = LushaSettings(api_key=KEY if credentials_ok else "not-the-key", list_ids=(LIST,),
                                 base_url=base_url, page_size=self.page_size, timeout=10.0)
        return LushaSource(settings, self.state_dir, backoff_base=0.05)

    def add(self, count: int, *, same_time: bool = False) -> list[str]:
        return self.fake.add_members(LIST, count)  # Lusha has no change time: ties are all there is

    def edit(self, source_id: str) -> str:
        self.edits += 1
        mark = f"Head of IT, edit {self.edits}"
        self.fake.edit(source_id, jobTitle=mark)
        return mark

    def add_malformed(self) -> str:
        [made] = self.fake.add_members(LIST, 1)
        self.fake.contacts[made] = {"id": made, "company": {"name": "Nameless Ltd"}}  # no one to match
        return made
