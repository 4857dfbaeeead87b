"""halosync_lusha against halosync's conformance kit (halosync.testing): paging to the end, resume after a crash
at every page, edits during a pull, 429s without Retry-After, malformed members rejected, bad credentials."""

from __future__ import annotations

import pytest

from halosync.testing import SourceConformance
from halosync_lusha.kit import LushaKitFake


@pytest.fixture
def halosync_source_fake() -> LushaKitFake:
    return LushaKitFake()


class TestLushaConformance(SourceConformance):
    pass
