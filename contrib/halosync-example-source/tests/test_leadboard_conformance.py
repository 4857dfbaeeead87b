"""The LeadBoard source against halosync's conformance kit: ``pip install -e '.[test]' && pytest``."""

from __future__ import annotations

import pytest
from halosync_example_source.kit import LeadBoardKitFake

from halosync.testing import SourceConformance


@pytest.fixture
def halosync_source_fake() -> LeadBoardKitFake:
    return LeadBoardKitFake()


class TestLeadBoardConformance(SourceConformance):
    pass
